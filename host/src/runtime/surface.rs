//! What a component imports and exports, read without compiling it.
//!
//! Compiling is the costly step (seconds and hundreds of MiB for a large
//! component, and more for one built to be costly), so a file that is not
//! a flavor, or that imports what the host does not provide, is refused
//! from its outer import and export sections first.

/// The names of a component's own imports and exports, not those of the
/// modules and components nested in it.
#[derive(Debug, Default)]
pub struct Surface {
    /// Imported instance or function names, e.g. `wasi:cli/environment@0.2.6`.
    pub imports: Vec<String>,
    /// Exported names, e.g. `secman:flavor/secrets-manager@0.1.0`.
    pub exports: Vec<String>,
}

impl Surface {
    /// Reads the outer surface of the component `wasm`.
    pub fn read(wasm: &[u8]) -> Result<Surface, String> {
        use wasmparser::{Parser, Payload};
        let mut surface = Surface::default();
        let mut depth = 0usize;
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.map_err(|e| e.to_string())? {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::ComponentImportSection(reader) if depth == 0 => {
                    for import in reader {
                        let import = import.map_err(|e| e.to_string())?;
                        surface.imports.push(import.name.name.to_string());
                    }
                }
                Payload::ComponentExportSection(reader) if depth == 0 => {
                    for export in reader {
                        let export = export.map_err(|e| e.to_string())?;
                        surface.exports.push(export.name.name.to_string());
                    }
                }
                _ => {}
            }
        }
        Ok(surface)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_flavor_exports_the_contract_and_imports_wasi() {
        let surface = Surface::read(crate::builtin::BUILTIN_FLAVORS[0].wasm).unwrap();
        assert_eq!(surface.exports, [super::super::FLAVOR_EXPORT]);
        assert!(
            surface
                .imports
                .iter()
                .all(|i| i.starts_with("wasi:") || i.starts_with("secman:flavor/")),
            "{:?}",
            surface.imports
        );
        assert!(Surface::read(b"\0asm\x0d\0\x01\0garbage").is_err());
    }
}
