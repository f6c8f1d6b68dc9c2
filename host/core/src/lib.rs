//! GTK-free services of the Tickwork workbench.
