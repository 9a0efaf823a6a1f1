//! The Sharp RMM wire protocol.
