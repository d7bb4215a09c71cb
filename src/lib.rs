//! docklint: a Dockerfile linter and optimizer.

pub mod context;
pub mod source;
pub mod syntax;
