//! The linker a flavor is instantiated with: only the interfaces its
//! component imports.
//!
//! wasmtime-wasi's `add_to_linker_async` defines every WASI 0.2 function
//! (sockets included), and wasi:http adds its own: some 250 host functions,
//! each a name interned and a closure boxed, on every command. The local
//! flavor imports neither sockets nor HTTP, so linking what a component
//! imports halves that stage of a warm `secret get`. A component can only
//! reach what it imports, so this grants nothing more or less than linking
//! everything.

use std::collections::BTreeSet;

use anyhow::Result;
use wasmtime::Engine;
use wasmtime::component::{Component, HasData, HasSelf, Linker, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, io, random, sockets};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
use wasmtime_wasi::{WasiView, p2};
use wasmtime_wasi_http::p2::bindings::http;
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};

use super::bindings::{Flavor, v0_1};
use super::sandbox::SandboxState;

type Add = fn(&mut Linker<SandboxState>) -> wasmtime::Result<()>;

/// `wasi:io`'s interfaces reach the resource table through this.
struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

fn table(state: &mut SandboxState) -> &mut ResourceTable {
    state.ctx().table
}

/// Every interface the host provides, by name without its version, and
/// how to add it to a linker.
const INTERFACES: &[(&str, Add)] = &[
    ("wasi:io/error", |l| {
        io::error::add_to_linker::<_, HasIo>(l, table)
    }),
    ("wasi:io/poll", |l| {
        io::poll::add_to_linker::<_, HasIo>(l, table)
    }),
    ("wasi:io/streams", |l| {
        io::streams::add_to_linker::<_, HasIo>(l, table)
    }),
    ("wasi:clocks/wall-clock", |l| {
        clocks::wall_clock::add_to_linker::<_, WasiClocks>(l, SandboxState::clocks)
    }),
    ("wasi:clocks/monotonic-clock", |l| {
        clocks::monotonic_clock::add_to_linker::<_, WasiClocks>(l, SandboxState::clocks)
    }),
    ("wasi:filesystem/types", |l| {
        filesystem::types::add_to_linker::<_, WasiFilesystem>(l, SandboxState::filesystem)?;
        // Writes are charged to the storage quota; links are refused.
        super::quota::shadow_writes(l)
    }),
    ("wasi:filesystem/preopens", |l| {
        filesystem::preopens::add_to_linker::<_, WasiFilesystem>(l, SandboxState::filesystem)
    }),
    ("wasi:random/random", |l| {
        random::random::add_to_linker::<_, WasiRandom>(l, SandboxState::random)
    }),
    ("wasi:random/insecure", |l| {
        random::insecure::add_to_linker::<_, WasiRandom>(l, SandboxState::random)
    }),
    ("wasi:random/insecure-seed", |l| {
        random::insecure_seed::add_to_linker::<_, WasiRandom>(l, SandboxState::random)
    }),
    ("wasi:cli/exit", |l| {
        cli::exit::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/environment", |l| {
        cli::environment::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/stdin", |l| {
        cli::stdin::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/stdout", |l| {
        cli::stdout::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/stderr", |l| {
        cli::stderr::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/terminal-input", |l| {
        cli::terminal_input::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/terminal-output", |l| {
        cli::terminal_output::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/terminal-stdin", |l| {
        cli::terminal_stdin::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/terminal-stdout", |l| {
        cli::terminal_stdout::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:cli/terminal-stderr", |l| {
        cli::terminal_stderr::add_to_linker::<_, WasiCli>(l, SandboxState::cli)
    }),
    ("wasi:sockets/network", |l| {
        let options = p2::bindings::LinkOptions::default();
        sockets::network::add_to_linker::<_, WasiSockets>(
            l,
            &(&options).into(),
            SandboxState::sockets,
        )
    }),
    ("wasi:sockets/instance-network", |l| {
        sockets::instance_network::add_to_linker::<_, WasiSockets>(l, SandboxState::sockets)
    }),
    ("wasi:sockets/ip-name-lookup", |l| {
        sockets::ip_name_lookup::add_to_linker::<_, WasiSockets>(l, SandboxState::sockets)
    }),
    ("wasi:sockets/tcp", |l| {
        sockets::tcp::add_to_linker::<_, WasiSockets>(l, SandboxState::sockets)
    }),
    ("wasi:sockets/tcp-create-socket", |l| {
        sockets::tcp_create_socket::add_to_linker::<_, WasiSockets>(l, SandboxState::sockets)
    }),
    ("wasi:sockets/udp", |l| {
        sockets::udp::add_to_linker::<_, WasiSockets>(l, SandboxState::sockets)
    }),
    ("wasi:sockets/udp-create-socket", |l| {
        sockets::udp_create_socket::add_to_linker::<_, WasiSockets>(l, SandboxState::sockets)
    }),
    ("wasi:http/types", |l| {
        let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
        http::types::add_to_linker::<_, WasiHttp>(l, &(&options).into(), SandboxState::http)
    }),
    ("wasi:http/outgoing-handler", |l| {
        http::outgoing_handler::add_to_linker::<_, WasiHttp>(l, SandboxState::http)
    }),
];

/// The linker for `component`: the WASI and wasi:http interfaces it
/// imports, and the contract's imports in each version the host runs.
/// What it imports beyond these is refused by `instantiate_pre`.
pub fn for_component(engine: &Engine, component: &Component) -> Result<Linker<SandboxState>> {
    let imported: BTreeSet<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.split('@').next().unwrap_or(name).to_string())
        .collect();
    let mut linker = Linker::new(engine);
    for (name, add) in INTERFACES {
        if imported.contains(*name) {
            add(&mut linker)?;
        }
    }
    Flavor::add_to_linker::<_, HasSelf<SandboxState>>(&mut linker, |state| state)?;
    v0_1::Flavor::add_to_linker::<_, HasSelf<SandboxState>>(&mut linker, |state| state)?;
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each entry of the table is an interface that wasmtime-wasi and
    /// wasi:http define in full (adding it again is refused as defined
    /// twice), and the table has as many as they define.
    #[test]
    fn the_table_is_what_the_full_linker_defines() {
        let engine = Engine::default();
        let mut full: Linker<SandboxState> = Linker::new(&engine);
        p2::add_to_linker_async(&mut full).unwrap();
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut full).unwrap();
        for (name, add) in INTERFACES {
            let error = add(&mut full).expect_err(name).to_string();
            assert!(error.contains("defined twice"), "{name}: {error}");
        }
        let names: BTreeSet<&str> = INTERFACES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names.len(), INTERFACES.len());
        // wasi:io 3, clocks 2, filesystem 2, random 3, cli 10, sockets 7, http 2.
        assert_eq!(names.len(), 29);
    }
}
