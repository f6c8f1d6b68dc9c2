//! The `tickwork` application as a library: the binary is a thin `main`, and the GUI tests
//! build the real window and panels in-process against the real core.

pub mod cli;
pub mod commands;
pub mod context;
pub mod gui;
