//! lamina-model
