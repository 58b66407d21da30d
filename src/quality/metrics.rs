//! Agreement and accuracy metrics (being written).
