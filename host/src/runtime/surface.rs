//! What a component imports and exports, and how big its shape is, read
//! without compiling it.
//!
//! Compiling is the costly step (seconds and hundreds of MiB for a large
//! component, and more for one built to be costly), so a file that is not
//! a flavor, or that imports what the host does not provide, is refused
//! from its outer import and export sections first. What wasmtime keeps
//! for a component grows with its shape, not its size: a file of 24 MiB
//! holding modules with hundreds of thousands of imports, never
//! instantiated, made every later command hold hundreds of MiB. So the
//! shape is counted over every nested module and component, in one pass
//! that allocates nothing per item, and held to [`SHAPE_LIMITS`] before
//! anything is compiled.

/// The names of a component's own imports and exports, not those of the
/// modules and components nested in it.
#[derive(Debug, Default)]
pub struct Surface {
    /// Imported instance or function names, e.g. `wasi:cli/environment@0.2.6`.
    pub imports: Vec<String>,
    /// Exported names, e.g. `secman:flavor/secrets-manager@0.1.0`.
    pub exports: Vec<String>,
    /// How many of each thing it holds, nested ones included.
    pub shape: Shape,
}

/// How many of each costly thing a component holds, over every module
/// and component nested in it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Core modules and nested components.
    pub modules: usize,
    /// Core and component instances.
    pub instances: usize,
    /// Core and component imports.
    pub imports: usize,
    /// Core functions, defined and imported, and canonical functions.
    pub functions: usize,
    /// Core and component types.
    pub types: usize,
    /// Core and component exports, and aliases.
    pub exports: usize,
    /// Globals, tables, memories, tags, data and element segments.
    pub other: usize,
}

/// The most of each a flavor component may hold: eight to twelve times
/// what the largest flavor known to work needs (`componentize-py`'s, whose
/// Python interpreter and libraries hold 16 modules, 2,314 imports, 14,699
/// functions and 5,590 exports; Go's 43,936 data segments and globals), so
/// that what wasmtime keeps for a component stays within tens of MiB.
pub const SHAPE_LIMITS: Shape = Shape {
    modules: 128,
    instances: 1_024,
    imports: 20_000,
    functions: 150_000,
    types: 16_000,
    exports: 50_000,
    other: 400_000,
};

impl Shape {
    /// The first count over its limit, named, with the limit.
    pub fn check(&self) -> Result<(), String> {
        let counts = [
            (
                "modules and nested components",
                self.modules,
                SHAPE_LIMITS.modules,
            ),
            ("instances", self.instances, SHAPE_LIMITS.instances),
            ("imports", self.imports, SHAPE_LIMITS.imports),
            ("functions", self.functions, SHAPE_LIMITS.functions),
            ("types", self.types, SHAPE_LIMITS.types),
            ("exports and aliases", self.exports, SHAPE_LIMITS.exports),
            (
                "globals, tables, memories and segments",
                self.other,
                SHAPE_LIMITS.other,
            ),
        ];
        match counts.iter().find(|(_, count, limit)| count > limit) {
            Some((what, count, limit)) => Err(format!(
                "it holds {count} {what}, over the {limit} secman takes from a flavor (what \
                 wasmtime keeps in memory for a component grows with these)"
            )),
            None => Ok(()),
        }
    }
}

impl Surface {
    /// Reads the outer surface of the component `wasm`.
    pub fn read(wasm: &[u8]) -> Result<Surface, String> {
        use wasmparser::{Parser, Payload};
        let mut surface = Surface::default();
        let mut depth = 0usize;
        let error = |e: wasmparser::BinaryReaderError| e.to_string();
        for payload in Parser::new(0).parse_all(wasm) {
            let payload = payload.map_err(error)?;
            surface.shape.count(&payload).map_err(error)?;
            match payload {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::ComponentImportSection(reader) if depth == 0 => {
                    for import in reader {
                        let import = import.map_err(error)?;
                        surface.imports.push(import.name.name.to_string());
                    }
                }
                Payload::ComponentExportSection(reader) if depth == 0 => {
                    for export in reader {
                        let export = export.map_err(error)?;
                        surface.exports.push(export.name.name.to_string());
                    }
                }
                _ => {}
            }
            // Stop reading a file as soon as it is known to be too big.
            if surface.shape.check().is_err() {
                break;
            }
        }
        Ok(surface)
    }
}

impl Shape {
    /// Adds what `payload` holds.
    fn count(&mut self, payload: &wasmparser::Payload) -> wasmparser::Result<()> {
        use wasmparser::Payload::*;
        match payload {
            ModuleSection { .. } | ComponentSection { .. } => self.modules += 1,
            InstanceSection(r) => self.instances += r.count() as usize,
            ComponentInstanceSection(r) => self.instances += r.count() as usize,
            ImportSection(r) => {
                for import in r.clone().into_imports() {
                    let import = import?;
                    self.imports += 1;
                    if matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                        self.functions += 1;
                    }
                }
            }
            ComponentImportSection(r) => self.imports += r.count() as usize,
            FunctionSection(r) => self.functions += r.count() as usize,
            ComponentCanonicalSection(r) => self.functions += r.count() as usize,
            TypeSection(r) => {
                for group in r.clone() {
                    self.types += group?.types().len();
                }
            }
            CoreTypeSection(r) => self.types += r.count() as usize,
            ComponentTypeSection(r) => self.types += r.count() as usize,
            ExportSection(r) => self.exports += r.count() as usize,
            ComponentExportSection(r) => self.exports += r.count() as usize,
            ComponentAliasSection(r) => self.exports += r.count() as usize,
            GlobalSection(r) => self.other += r.count() as usize,
            TableSection(r) => self.other += r.count() as usize,
            MemorySection(r) => self.other += r.count() as usize,
            TagSection(r) => self.other += r.count() as usize,
            DataSection(r) => self.other += r.count() as usize,
            ElementSection(r) => self.other += r.count() as usize,
            _ => {}
        }
        Ok(())
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

    #[test]
    fn every_built_in_flavor_fits_the_shape_limits_with_room() {
        for flavor in crate::builtin::BUILTIN_FLAVORS {
            let shape = Surface::read(flavor.wasm).unwrap().shape;
            assert_eq!(shape.check(), Ok(()), "{}", flavor.name);
            assert!(shape.functions * 8 < SHAPE_LIMITS.functions, "{shape:?}");
            assert!(shape.imports * 8 < SHAPE_LIMITS.imports, "{shape:?}");
        }
    }

    #[test]
    fn a_shape_over_a_limit_is_named() {
        let shape = Shape {
            imports: SHAPE_LIMITS.imports + 1,
            ..Shape::default()
        };
        assert!(shape.check().unwrap_err().contains("imports"));
    }
}
