//! .dockerignore (in progress).
