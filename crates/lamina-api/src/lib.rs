//! lamina-api
