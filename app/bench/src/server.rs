//! The binary's commands the bench runs as child processes: servers (so their memory and CPU time
//! are theirs alone and the load generator does not share their runtime), and the set-up commands
//! that write a data folder before its server starts.

use std::{path::Path, process::Stdio, time::Duration};

use anyhow::{Context, bail};
use kernel::Synchronous;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
};

use crate::ProcessStats;

/// This executable, as found when the bench started: a rebuild during a long `--preload` replaces
/// the file, after which the running process's own path reads as deleted.
static EXECUTABLE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Records this executable's path; call first thing.
pub(super) fn remember_executable() -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let _ = EXECUTABLE.set(exe);
    Ok(())
}

fn executable() -> anyhow::Result<std::path::PathBuf> {
    match EXECUTABLE.get() {
        Some(exe) => Ok(exe.clone()),
        None => std::env::current_exe().context("finding this executable"),
    }
}

/// Runs `boxoffice --data-dir DIR --synchronous S <command…>` to its end, writing `stdin` to it,
/// and returns what it printed on standard output (its standard error goes to ours).
pub(super) async fn run_command(
    dir: &Path,
    synchronous: Synchronous,
    command: &[&str],
    stdin: &str,
) -> anyhow::Result<String> {
    let data_dir = dir.to_string_lossy().into_owned();
    let sync = synchronous.to_string();
    let mut child = Command::new(executable()?)
        .args(["--data-dir", &data_dir, "--synchronous", &sync])
        .args(command)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting `boxoffice {}`", command.join(" ")))?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!("`boxoffice {}` failed ({})", command.join(" "), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A child server; killed when dropped.
pub(super) struct ChildServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(super) url: String,
}

impl ChildServer {
    /// Starts `boxoffice --data-dir DIR --synchronous S <command…> --workers N`, logging to
    /// `DIR/server.log`: the same database settings and thread count for Boxoffice and its floor.
    pub(super) async fn boxoffice(
        dir: &Path,
        synchronous: Synchronous,
        command: &[&str],
        workers: usize,
    ) -> anyhow::Result<ChildServer> {
        let data_dir = dir.to_string_lossy().into_owned();
        let sync = synchronous.to_string();
        let workers = workers.to_string();
        let mut args = vec!["--data-dir", &data_dir, "--synchronous", &sync];
        args.extend_from_slice(command);
        args.extend_from_slice(&["--workers", &workers]);
        Self::start(&args, &dir.join("server.log"), &[]).await
    }

    /// Starts one process of a split deployment: `boxoffice --data-dir DIR --synchronous S
    /// <deployment flags…> serve <serve flags…> --workers N` with the service token in its
    /// environment.
    pub(super) async fn module_process(
        dir: &Path,
        synchronous: Synchronous,
        deployment: &[&str],
        serve: &[&str],
        workers: usize,
        token: &str,
    ) -> anyhow::Result<ChildServer> {
        let data_dir = dir.to_string_lossy().into_owned();
        let sync = synchronous.to_string();
        let workers = workers.to_string();
        let mut args = vec!["--data-dir", &data_dir, "--synchronous", &sync];
        args.extend_from_slice(deployment);
        args.push("serve");
        args.extend_from_slice(serve);
        args.extend_from_slice(&["--workers", &workers]);
        Self::start(
            &args,
            &dir.join("server.log"),
            &[("BOXOFFICE_SERVICE_TOKEN", token)],
        )
        .await
    }

    /// Starts `boxoffice <args>` and waits for the `http://…` line it prints once listening.
    /// Its log goes to `log_file`.
    async fn start(
        args: &[&str],
        log_file: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<ChildServer> {
        let exe = executable()?;
        if let Some(parent) = log_file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let log = std::fs::File::create(log_file)
            .with_context(|| format!("creating {}", log_file.display()))?;
        let mut child = Command::new(exe)
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting the server")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(at) = line.find("http://") {
                    let url = line[at..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    return Ok::<_, anyhow::Error>(Some(url));
                }
            }
            Ok(None)
        })
        .await
        .context("the server did not start within 60 s")??;
        let Some(url) = url else {
            bail!(
                "the server exited before listening; see {}",
                log_file.display()
            )
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChildServer { child, url })
    }

    /// The child's memory and CPU time, read from `/proc`.
    pub(super) fn stats(&self) -> Option<ProcessStats> {
        ProcessStats::of(&self.child.id()?.to_string())
    }

    /// The child's context switches so far, summed over its threads.
    pub(super) fn context_switches(&self) -> Option<u64> {
        crate::process::context_switches(&self.child.id()?.to_string())
    }

    /// Stops the child (SIGKILL: its data is scratch) and waits for it.
    pub(super) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
