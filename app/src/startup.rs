//! Startup as a value: [`Application::build`] opens the modules, starts their subscriptions and
//! binds the listener (port 0 in tests); [`Application::run_until_stopped`] serves until a signal
//! or a stop, then shuts everything down in order.

use std::{net::SocketAddr, time::Instant};

use actix_web::{App, HttpServer, dev::Server, middleware, web};
use anyhow::Context;
use kernel::{Clock, ClockControl};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{demo, http, modules::Modules, pages, settings::Settings, state::AppState};

/// A built, bound, not yet serving application.
pub struct Application {
    address: SocketAddr,
    server: Server,
    modules: Modules,
    clock: Option<ClockControl>,
    /// Stops the subscriptions, after the HTTP server stopped.
    shutdown: CancellationToken,
    /// Ends long-lived responses when the HTTP server starts stopping.
    streams: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Application {
    /// Opens and migrates the module databases (creating demo data in a new folder when enabled),
    /// starts the subscriptions and binds the HTTP listener. With `server.adjustable_clock`, every
    /// module reads an adjustable clock, moved with [`Application::clock_control`] or
    /// `POST /api/admin/clock` (tests only).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let (clock, control) = if settings.server.adjustable_clock {
            let (clock, control) = Clock::adjustable();
            tracing::warn!("running on an adjustable clock: for tests only");
            (clock, Some(control))
        } else {
            (Clock::system(), None)
        };
        let fresh = Modules::is_fresh(&settings.database.data_dir);
        let modules = Modules::open(&settings, clock).await?;
        if fresh && settings.demo.enabled {
            if settings.deployment.is_monolith() {
                demo::seed(&modules).await.context("creating demo data")?;
            } else {
                tracing::info!(
                    "no demo data: it is created only by a process hosting every module"
                );
            }
        }
        let shutdown = CancellationToken::new();
        let tasks = modules.start(&shutdown);

        let listener = std::net::TcpListener::bind(&settings.server.bind)
            .with_context(|| format!("binding {}", settings.server.bind))?;
        let address = listener.local_addr()?;
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        let http_metrics = http::HttpMetrics::register(modules.metrics());
        let streams = CancellationToken::new();
        let state = web::Data::new(AppState {
            modules: modules.clone(),
            settings,
            started_at: Instant::now(),
            shutdown: streams.clone(),
            clock: control.clone(),
            recent_admins: Default::default(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::Data::new(http_metrics.clone()))
                .configure(http::configure_extractors)
                .wrap(middleware::ErrorHandlers::new().handler(
                    actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                    pages::answer_405,
                ))
                .wrap(middleware::from_fn(http::resolve_caller))
                .wrap(middleware::from_fn(http::limit_body))
                .wrap(middleware::from_fn(http::undeclared_method))
                .wrap(middleware::from_fn(http::request_context))
                // Outside every middleware that answers by itself (`limit_body`'s 413, the
                // request context's 403 for a write from another site).
                .wrap(middleware::ErrorHandlers::new().default_handler(pages::page_errors))
                .wrap(middleware::Compress::default())
                .configure(http::configure)
                .configure(pages::configure)
                .default_service(web::to(pages::not_found))
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Application {
            address,
            server,
            modules,
            clock: control,
            shutdown,
            streams,
            tasks,
        })
    }

    /// The port the listener got (useful with port 0).
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The address the listener got.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The modules, for commands that run beside the server (tests use HTTP instead).
    pub fn modules(&self) -> &Modules {
        &self.modules
    }

    /// The hand on the adjustable clock (`server.adjustable_clock`), if the server runs on one.
    pub fn clock_control(&self) -> Option<&ClockControl> {
        self.clock.as_ref()
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, lets requests finish, stops the
    /// subscriptions and closes the databases.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            server,
            modules,
            shutdown,
            streams,
            tasks,
            ..
        } = self;
        let handle = server.handle();
        let signal_streams = streams.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = wait_for_signal() => tracing::info!("signal received; shutting down"),
                () = signal_streams.cancelled() => {}
            }
            // Long-lived responses end first, so the graceful stop does not wait for them.
            signal_streams.cancel();
            handle.stop(true).await;
        });
        let served = server.await;
        streams.cancel();
        shutdown.cancel();
        for task in tasks {
            let _ = task.await;
        }
        modules.close().await;
        tracing::info!("stopped");
        served.context("http server")
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
