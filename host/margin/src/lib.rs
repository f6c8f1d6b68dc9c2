//! Margin engine for Tickwork (being built under issue 3).
