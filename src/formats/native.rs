//! native JSONL (being written).

/// This module's exporters (registered in [`super::exporters`]).
pub fn exporters() -> Vec<Box<dyn super::Exporter>> {
    Vec::new()
}

/// This module's importers (registered in [`super::importers`]).
pub fn importers() -> Vec<Box<dyn super::Importer>> {
    Vec::new()
}
