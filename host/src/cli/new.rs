//! `secman flavor new`: a flavor project to start from, in one of five
//! languages.
//!
//! The templates are the flavors under `examples/`, embedded as they are:
//! each is a working file-backed store that passes `secman flavor test`,
//! and CI builds and tests every one. A new project is the example with its
//! name (`example-python`, and `example_python` where the language wants
//! an identifier) replaced, plus the WIT secman accepts.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;

use super::output::print;
use super::usage;
use crate::runtime::is_flavor_name;

/// The languages a project can be made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, with wit-bindgen and cargo.
    Rust,
    /// Python, with componentize-py.
    Python,
    /// JavaScript, with componentize-js.
    Js,
    /// C, with clang, wit-bindgen and WASI's preview1 adapter.
    C,
    /// Go, with Go 1.27 (wasip1), wit-bindgen and the adapter.
    Go,
}

/// One file of a project.
struct File {
    path: &'static str,
    text: &'static str,
}

macro_rules! files {
    ($root:literal: $($path:literal),+ $(,)?) => {
        &[$(File { path: $path, text: include_str!(concat!($root, $path)) }),+]
    };
}

/// The WIT every project builds against.
const WIT: &[File] = files!("../../../": "wit/flavor.wit", "wit/flavor-with-wasi.wit",
    "wit/deps/cli.wit",
    "wit/deps/clocks.wit", "wit/deps/filesystem.wit", "wit/deps/http.wit", "wit/deps/io.wit",
    "wit/deps/random.wit", "wit/deps/sockets.wit");

impl Lang {
    fn files(self) -> &'static [File] {
        match self {
            Lang::Rust => files!("../../../examples/rust/": "Cargo.toml", "src/lib.rs",
                "build.sh", ".gitignore"),
            Lang::Python => files!("../../../examples/python/": "app.py", "secrets_manager.py",
                "build.sh", ".gitignore"),
            Lang::Js => files!("../../../examples/js/": "app.js", "build.sh", ".gitignore"),
            Lang::C => files!("../../../examples/c/": "flavor.c", "build.sh", ".gitignore"),
            Lang::Go => files!("../../../examples/go/": "flavor.go", "build.sh", ".gitignore"),
        }
    }

    /// The example's own name, replaced by the new flavor's.
    fn example(self) -> &'static str {
        match self {
            Lang::Rust => "example-rust",
            Lang::Python => "example-python",
            Lang::Js => "example-js",
            Lang::C => "example-c",
            Lang::Go => "example-go",
        }
    }
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The flavor's name: lowercase letters, digits, `_` and `-`.
    name: String,
    /// The language to write it in.
    #[arg(long, value_enum)]
    lang: Lang,
    /// The folder to create [default: ./NAME].
    #[arg(long)]
    dir: Option<PathBuf>,
}

impl NewArgs {
    pub fn run(self) -> Result<()> {
        if !is_flavor_name(&self.name) {
            usage!(
                "`{}` is not a valid flavor name: use lowercase letters, digits, `_` and `-`",
                self.name
            );
        }
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name));
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Ok(meta) if meta.is_dir() && fs::read_dir(&dir)?.next().is_none() => {}
            Ok(_) => usage!(
                "{} already exists and is not an empty folder: pick another --dir",
                dir.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
        }
        write_project(&dir, self.lang, &self.name)
            .with_context(|| format!("cannot create the project in {}", dir.display()))?;
        let shown = dir.display();
        print(&format!(
            "Created flavor `{}` ({:?}) in {shown}. Build it, check it, register it:\n  \
             {shown}/build.sh\n  secman flavor test {shown}/flavor.wasm\n  \
             secman flavor register {shown}/flavor.wasm --allow-storage\n\
             See docs/writing-a-flavor.md in secman's repository for the details.\n",
            self.name, self.lang
        ))
    }
}

/// Writes the project for `lang` called `name` into `dir`, which is
/// missing or empty. Every folder and file is created new, never through
/// a link: something planted in `dir` meanwhile stops the write.
pub fn write_project(dir: &Path, lang: Lang, name: &str) -> Result<()> {
    let identifier = name.replace('-', "_");
    let example_identifier = lang.example().replace('-', "_");
    if !dir.is_dir() {
        fs::create_dir(dir)?;
    }
    for file in lang.files().iter().chain(WIT) {
        let path = dir.join(file.path);
        let mut folder = dir.to_path_buf();
        for part in Path::new(file.path)
            .parent()
            .into_iter()
            .flat_map(Path::components)
        {
            folder.push(part);
            if !fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
                fs::create_dir(&folder)
                    .with_context(|| format!("cannot create {}", folder.display()))?;
            }
        }
        let text = file
            .text
            .replace(lang.example(), name)
            .replace(&example_identifier, &identifier);
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        out.write_all(text.as_bytes())?;
        let mode = if file.path.ends_with(".sh") {
            0o755
        } else {
            0o644
        };
        out.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project made with the example's own name is the example: what
    /// `flavor new` writes is what CI builds and tests.
    #[test]
    fn each_template_is_its_example() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for lang in [Lang::Rust, Lang::Python, Lang::Js, Lang::C, Lang::Go] {
            let dir = tempfile::tempdir().unwrap();
            write_project(dir.path(), lang, lang.example()).unwrap();
            let example = root
                .join("examples")
                .join(lang.example().trim_start_matches("example-"));
            for file in lang.files().iter().chain(WIT) {
                let written = fs::read_to_string(dir.path().join(file.path)).unwrap();
                let expected = fs::read_to_string(example.join(file.path)).unwrap();
                assert!(written == expected, "{lang:?}: {} differs", file.path);
            }
        }
    }

    #[test]
    fn the_name_replaces_the_examples_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        write_project(dir.path(), Lang::Rust, "my-vault").unwrap();
        let cargo = fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
        assert!(cargo.contains("name = \"my-vault\""), "{cargo}");
        let build = fs::read_to_string(dir.path().join("build.sh")).unwrap();
        assert!(build.contains("release/my_vault.wasm"), "{build}");
        let mode = fs::metadata(dir.path().join("build.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
    }
}
