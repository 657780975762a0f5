//! The `boxoffice` application: the one crate that knows HTTP, HTML and how the modules are
//! wired together.
//!
//! It reads the configuration ([`Settings`]), opens every module on its own database
//! ([`Modules`]), serves the JSON API and the server-rendered UI ([`Application`]) and runs
//! the command line ([`cli`]). It holds no domain rules of its own: it validates the shape of
//! requests, calls module facades, and maps their errors to `application/problem+json` in one
//! place.

mod architecture;
pub mod cli;
mod demo;
mod events;
mod floor_server;
mod http;
mod modules;
mod money;
mod pages;
mod preload;
mod remote;
mod settings;
mod startup;
mod state;
mod telemetry;

pub use modules::{DeploymentHealth, ModuleHealth, Modules};

pub use settings::{
    DatabaseSettings, DemoSettings, DeploymentSettings, EventSettings, LogFormat, ModuleName,
    SecureCookies, ServerSettings, Settings,
};
pub use startup::Application;
pub use telemetry::init_tracing;
