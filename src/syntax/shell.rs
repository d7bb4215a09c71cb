//! Shell layer (in progress).
