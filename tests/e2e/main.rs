//! End-to-end tests: the real `secman` binary and real flavor components,
//! each test in its own temporary home.

mod aws;
mod concurrency;
mod conformance;
mod copy;
mod examples;
mod flavors;
mod gcp;
mod hardening;
mod http_stub;
mod managers;
mod run;
mod sandbox;
mod secrets;
mod shell;
mod support;
mod terminal;
mod trust;
mod vault;
mod zenml;
