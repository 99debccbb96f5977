//! lamina-auth
