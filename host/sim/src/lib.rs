//! TWS protocol simulator for Tickwork (being built under issue 4).
