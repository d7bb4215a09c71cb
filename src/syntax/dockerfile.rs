//! Dockerfile instruction layer (in progress).
