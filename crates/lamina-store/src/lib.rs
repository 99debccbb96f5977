//! lamina-store
