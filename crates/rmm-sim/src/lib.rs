//! Simulator of the Sharp cloud.
