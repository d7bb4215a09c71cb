//! docklint: a Dockerfile linter and optimizer.

pub mod source;
pub mod syntax;
