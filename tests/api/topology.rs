//! The shapes the end-to-end suite runs the application in. `crate::TOPOLOGY` picks one per test
//! binary: `api` runs the embedded monolith in the test process (port 0, a temporary data
//! folder); `api-split` runs the split deployment, one child process of the real binary per
//! module, each with its own data folder, events over NATS JetStream under a prefix of the
//! test's own, module calls over HTTP, and the test's requests spread over every process.
//!
//! The split needs a NATS server with JetStream (`BOXOFFICE_TEST_NATS_URL`, default
//! `nats://127.0.0.1:4222`). Without one the split suite says so loudly and ends without running
//! its tests; with `BOXOFFICE_REQUIRE_NATS=1` (set by `.ci/run`) a missing server fails instead.

#![allow(dead_code)]

#[path = "../support/nats.rs"]
mod nats;

use std::{
    io::{BufRead, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use app::{Application, ModuleName, Modules, Settings};
use kernel::{ClockControl, Timestamp, Trace};
use serde_json::{Value, json};
use users_api::{NewUser, Registration};

/// Where the application runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) enum Topology {
    /// Every module in the test process.
    Monolith,
    /// One process per module.
    Split,
}

/// A running application: the addresses to send requests to, and what moves it.
pub(crate) struct Running {
    pub(crate) addresses: Vec<String>,
    pub(crate) handle: Handle,
}

/// What a test needs besides HTTP: the clock, and a way to make admins the way an operator does.
pub(crate) enum Handle {
    InProcess {
        modules: Modules,
        clock: ClockControl,
        _dir: tempfile::TempDir,
    },
    Split(Split),
}

impl Handle {
    /// Moves the application's clock (every process's) forward.
    pub(crate) async fn advance_clock(&self, by: Duration) {
        match self {
            Handle::InProcess { clock, .. } => clock.advance(by),
            Handle::Split(split) => split.advance_clock(by).await,
        }
    }

    /// The time on the application's clock.
    pub(crate) async fn now(&self) -> Timestamp {
        match self {
            Handle::InProcess { modules, .. } => modules.now(),
            Handle::Split(split) => split.move_clock(&split.processes[0], 0.0).await,
        }
    }

    /// Creates an admin as `boxoffice users create-admin` does, in the process hosting users.
    pub(crate) async fn create_admin(&self, user: NewUser) -> Value {
        let registration = Registration::try_from(user).expect("a valid admin");
        match self {
            Handle::InProcess { modules, .. } => serde_json::to_value(
                modules
                    .users()
                    .create_admin(Trace::new_root(), registration)
                    .await
                    .expect("admin created"),
            )
            .unwrap(),
            Handle::Split(split) => split.create_admin(registration).await,
        }
    }
}

/// Starts the application in `topology` with the test settings, changed by `configure`.
pub(crate) async fn start(topology: Topology, configure: impl FnOnce(&mut Settings)) -> Running {
    if std::env::var_os("TEST_LOG").is_some() {
        app::init_tracing(app::LogFormat::Text, false, false);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::for_tests(dir.path());
    configure(&mut settings);
    match topology {
        Topology::Monolith => {
            let application = Application::build(settings).await.expect("the app builds");
            let clock = application
                .clock_control()
                .cloned()
                .expect("tests run on an adjustable clock");
            let address = format!("http://127.0.0.1:{}", application.port());
            let modules = application.modules().clone();
            tokio::spawn(application.run_until_stopped());
            Running {
                addresses: vec![address],
                handle: Handle::InProcess {
                    modules,
                    clock,
                    _dir: dir,
                },
            }
        }
        Topology::Split => {
            let split = Split::start(dir, settings).await;
            Running {
                addresses: split.processes.iter().map(|p| p.url.clone()).collect(),
                handle: Handle::Split(split),
            }
        }
    }
}

/// One process of a split deployment.
pub(crate) struct Process {
    pub(crate) module: ModuleName,
    pub(crate) url: String,
    child: Child,
    config: PathBuf,
    log: PathBuf,
}

/// A split deployment: one child process per module, sharing nothing but NATS.
pub(crate) struct Split {
    pub(crate) processes: Vec<Process>,
    token: String,
    nats_url: String,
    prefix: String,
    http: reqwest::Client,
    /// Seconds every clock was moved so far: a restarted process starts on the real clock and
    /// is moved as far, so the processes keep one time.
    advanced: std::sync::Mutex<f64>,
    _dir: tempfile::TempDir,
}

impl Split {
    async fn start(dir: tempfile::TempDir, settings: Settings) -> Split {
        let Some(nats_url) = nats::nats_url() else {
            skip_without_nats();
        };
        Split::start_on(dir, settings, nats_url).await
    }

    /// Starts one process per module in `dir` with `settings`, carrying events over the NATS
    /// server at `nats_url`.
    pub(crate) async fn start_on(
        dir: tempfile::TempDir,
        settings: Settings,
        nats_url: String,
    ) -> Split {
        let prefix = format!("t{}", uuid::Uuid::now_v7().simple());
        let token = format!("test-token-{}", uuid::Uuid::now_v7().simple());
        let http = reqwest::Client::new();
        for attempt in 1..=3 {
            let ports: Vec<u16> = {
                let listeners: Vec<_> = (0..4)
                    .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
                    .collect();
                listeners
                    .iter()
                    .map(|l| l.local_addr().unwrap().port())
                    .collect()
            };
            let urls: Vec<(ModuleName, String)> = ModuleName::ALL
                .iter()
                .zip(&ports)
                .map(|(m, p)| (*m, format!("http://127.0.0.1:{p}")))
                .collect();
            let mut processes: Vec<Process> = urls
                .iter()
                .map(|(module, _)| {
                    spawn_process(
                        dir.path(),
                        &settings,
                        *module,
                        &urls,
                        &nats_url,
                        &prefix,
                        &token,
                    )
                })
                .collect();
            if wait_until_serving(&http, &mut processes).await {
                return Split {
                    processes,
                    token,
                    nats_url,
                    prefix,
                    http,
                    advanced: std::sync::Mutex::new(0.0),
                    _dir: dir,
                };
            }
            eprintln!("split deployment did not start (attempt {attempt}); trying new ports");
        }
        panic!("the split deployment did not start three times");
    }

    /// The URL of the process hosting `module`.
    pub(crate) fn url(&self, module: ModuleName) -> String {
        self.process(module).url.clone()
    }

    /// Every process's URL.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.processes.iter().map(|p| p.url.clone()).collect()
    }

    /// The deployment's NATS prefix.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Creates an admin in the process hosting users, as another process would.
    pub(crate) async fn create_admin(&self, registration: Registration) -> Value {
        self.call(
            ModuleName::Users,
            "create_admin",
            json!([Trace::new_root(), registration]),
        )
        .await
    }

    /// Kills the process hosting `module` (SIGKILL).
    pub(crate) fn kill(&mut self, module: ModuleName) {
        let process = self.process_mut(module);
        let _ = process.child.kill();
        let _ = process.child.wait();
    }

    /// Starts the process hosting `module` again, as it was, and waits until it serves.
    pub(crate) async fn restart(&mut self, module: ModuleName) {
        let http = self.http.clone();
        let process = self.process_mut(module);
        let _ = process.child.kill();
        let _ = process.child.wait();
        process.child = launch(&process.config, &process.log);
        assert!(
            wait_until_serving(&http, std::slice::from_mut(process)).await,
            "{module} did not come back"
        );
        let advanced = *self.advanced.lock().unwrap();
        if advanced > 0.0 {
            self.move_clock(self.process(module), advanced).await;
        }
    }

    /// Moves every process's clock forward.
    pub(crate) async fn advance_clock(&self, by: Duration) {
        *self.advanced.lock().unwrap() += by.as_secs_f64();
        for process in &self.processes {
            self.move_clock(process, by.as_secs_f64()).await;
        }
    }

    fn process_mut(&mut self, module: ModuleName) -> &mut Process {
        self.processes
            .iter_mut()
            .find(|p| p.module == module)
            .expect("every module has a process")
    }

    /// The process hosting `module`.
    fn process(&self, module: ModuleName) -> &Process {
        self.processes
            .iter()
            .find(|p| p.module == module)
            .expect("every module has a process")
    }

    /// Calls `operation` of `module` on its internal API, as another process would.
    async fn call(&self, module: ModuleName, operation: &str, args: Value) -> Value {
        let answer: Value = self
            .http
            .post(format!(
                "{}/internal/{module}/{operation}",
                self.process(module).url
            ))
            .bearer_auth(&self.token)
            .json(&args)
            .send()
            .await
            .expect("the internal API answers")
            .json()
            .await
            .expect("a JSON answer");
        answer
            .get("ok")
            .cloned()
            .unwrap_or_else(|| panic!("{module}/{operation} failed: {answer}"))
    }

    /// Moves one process's clock; returns its time after the move.
    async fn move_clock(&self, process: &Process, seconds: f64) -> Timestamp {
        let answer: Value = self
            .http
            .post(format!("{}/internal/clock", process.url))
            .bearer_auth(&self.token)
            .json(&json!({ "advance_seconds": seconds }))
            .send()
            .await
            .expect("the clock moves")
            .json()
            .await
            .expect("the time");
        serde_json::from_value(answer["now"].clone()).expect("a timestamp")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for process in &self.processes {
                eprintln!(
                    "---- the last lines of the {} process's log:",
                    process.module
                );
                print_tail(&process.log);
            }
        }
        // Stopped first, so no relay writes again to what is deleted next.
        self.processes.clear();
        // The deployment's streams go with it, so a shared server does not fill up.
        let (url, prefix) = (self.nats_url.clone(), self.prefix.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let connected = kernel_nats::Nats::connect(
                    kernel_nats::NatsConfig {
                        url,
                        prefix,
                        client_name: "boxoffice test cleanup".into(),
                    },
                    kernel::Clock::system(),
                );
                if let Ok(Ok(nats)) = tokio::time::timeout(Duration::from_secs(3), connected).await
                {
                    let streams = ["users", "bookings", "payments"];
                    let _ =
                        tokio::time::timeout(Duration::from_secs(3), nats.delete_streams(&streams))
                            .await;
                }
            });
        })
        .join();
    }
}

/// True once every process answers `/health`; false when one exited (a port was taken).
async fn wait_until_serving(http: &reqwest::Client, processes: &mut [Process]) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for process in processes {
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                eprintln!("{} exited with {status}", process.module);
                print_tail(&process.log);
                return false;
            }
            let health = http
                .get(format!("{}/health", process.url))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if health.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} did not serve within 30 s",
                process.module
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    true
}

/// Starts the process hosting `module`, told where every other one is.
fn spawn_process(
    root: &Path,
    settings: &Settings,
    module: ModuleName,
    urls: &[(ModuleName, String)],
    nats_url: &str,
    prefix: &str,
    token: &str,
) -> Process {
    let url = urls
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, u)| u.clone())
        .expect("a URL per module");
    let mut own = settings.clone();
    own.database.data_dir = root.join(module.as_str());
    own.server.bind = url.trim_start_matches("http://").to_owned();
    own.deployment.modules = vec![module];
    own.deployment.remote = urls.iter().filter(|(m, _)| *m != module).cloned().collect();
    own.deployment.nats_url = Some(nats_url.to_owned());
    own.deployment.nats_prefix = prefix.to_owned();
    own.deployment.service_token = Some(token.to_owned());
    let config = root.join(format!("{module}.toml"));
    std::fs::write(&config, toml::to_string(&own).expect("settings as TOML")).unwrap();
    let log = root.join(format!("{module}.log"));
    let child = launch(&config, &log);
    Process {
        module,
        url,
        child,
        config,
        log,
    }
}

/// Runs `boxoffice --config config serve`, its log appended to `log` (or shown with TEST_LOG).
fn launch(config: &Path, log: &Path) -> Child {
    let stderr = if std::env::var_os("TEST_LOG").is_some() {
        Stdio::inherit()
    } else {
        Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
    };
    Command::new(env!("CARGO_BIN_EXE_boxoffice"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .env_remove("BOXOFFICE_SERVICE_TOKEN")
        .env("RUST_LOG", "warn,boxoffice=info")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("the boxoffice binary starts")
}

/// Says loudly that the split tests cannot run here, and ends the test binary.
pub(crate) fn skip_without_nats() -> ! {
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "\n********************************************************************\n\
         *** SPLIT TESTS SKIPPED: no NATS server answers (set BOXOFFICE_TEST_NATS_URL,\n\
         *** or start one: nats-server -js); BOXOFFICE_REQUIRE_NATS=1 makes this fail\n\
         ********************************************************************\n"
    );
    std::process::exit(0);
}

fn print_tail(log: &Path) {
    if let Ok(file) = std::fs::File::open(log) {
        let lines: Vec<String> = std::io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .collect();
        for line in lines.iter().skip(lines.len().saturating_sub(40)) {
            eprintln!("    {line}");
        }
    }
}
