//! Starting chromedriver and a headless Chromium session, or explaining why not.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use kernel_testkit::{eventually, within};

/// A browser session; chromedriver and every Chromium process it started are stopped when it is
/// dropped, even when the test panicked.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Killing chromedriver leaves the Chromium it started running (in a process group of its
        // own: dozens of them after a few test runs). Each of this session's Chromium processes
        // names the session's private profile folder, so they are found by it.
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(self.profile.path())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A headless browser, or `None` (with a loud message) when none is installed.
pub(crate) async fn browser() -> Option<Browser> {
    start(None).await
}

/// A headless browser with a phone's screen: 390 CSS pixels wide.
pub(crate) async fn phone() -> Option<Browser> {
    start(Some((390, 844))).await
}

async fn start(screen: Option<(u32, u32)>) -> Option<Browser> {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find_program(&["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let required = std::env::var_os("BOXOFFICE_REQUIRE_BROWSER").is_some_and(|v| v != "0");
        let message = "chromium and chromedriver are not on the PATH (Debian: apt-get install chromium chromium-driver)";
        assert!(!required, "BOXOFFICE_REQUIRE_BROWSER is set but {message}");
        eprintln!("\n********************************************************************");
        eprintln!("*** BROWSER TEST SKIPPED: {message}");
        eprintln!("********************************************************************\n");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    let mut options = serde_json::json!({
        "binary": chromium,
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--window-size=1280,900",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    // A window cannot be made narrower than 500 px headless; a phone is emulated instead.
    if let Some((width, height)) = screen {
        options["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}
        });
    }
    caps.insert("goog:chromeOptions".into(), options);
    // The port is free when picked but may be taken before chromedriver binds it (tests start
    // drivers side by side), and a driver that lost it exits: start again on another one.
    let mut attempts = 0;
    let (client, driver) = loop {
        attempts += 1;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        eventually(
            &format!("chromedriver to listen on port {port}"),
            Duration::from_secs(20),
            || async { std::net::TcpStream::connect(("127.0.0.1", port)).ok() },
        )
        .await;
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break (client, driver),
            Err(e) if attempts < 3 => {
                eprintln!("chromedriver on port {port} gave no session ({e}); starting another");
                let _ = driver.kill();
                let _ = driver.wait();
            }
            Err(e) => panic!("a chromium session: {e}"),
        }
    };
    Some(Browser {
        client,
        driver,
        profile,
    })
}

impl Browser {
    pub(crate) async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks the element `css` names; when a live region replaced it between finding and
    /// clicking, finds it again.
    pub(crate) async fn click(&self, css: &str) {
        for _ in 0..5 {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference => {}
                Err(e) => panic!("clicking {css}: {e}"),
            }
        }
        panic!("{css} kept being replaced before it could be clicked");
    }

    pub(crate) async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until the page's text contains `needle`, and returns the text.
    pub(crate) async fn wait_for_text(&self, needle: &str) -> String {
        let shown = within(Duration::from_secs(15), || async {
            let text = self.find("body").await.text().await.unwrap_or_default();
            text.contains(needle).then_some(text)
        })
        .await;
        if let Some(text) = shown {
            return text;
        }
        let text = self.find("body").await.text().await.unwrap_or_default();
        let path = std::env::temp_dir().join("boxoffice-browser-failure.png");
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&path, png);
        }
        panic!(
            "the page never showed {needle:?} (screenshot: {}); it shows:\n{text}",
            path.display()
        );
    }

    /// From a show's page, with the seats chosen or counted there, on to the checkout that
    /// shows the order and its total.
    pub(crate) async fn to_checkout(&self) {
        self.click("form[action$='/checkout'][data-picker] button[type=submit]")
            .await;
        self.wait_for_text("Your order").await;
    }

    /// Sends `keys` to the element that has the focus (WebDriver key codes for arrows).
    pub(crate) async fn type_keys(&self, keys: &str) {
        let focused = self.client.active_element().await.unwrap();
        focused.send_keys(keys).await.unwrap();
    }

    /// What `script` (a function body) returns.
    pub(crate) async fn script(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running {script}: {e}"))
    }

    /// Logs out, then in as `email` through the login page at `login_url`.
    pub(crate) async fn switch_user(&self, login_url: &str, email: &str, password: &str) {
        self.click("form[action='/logout'] button").await;
        self.wait_for_text("You are logged out").await;
        self.goto(login_url).await;
        self.fill("input[name=email]", email).await;
        self.fill("input[name=password]", password).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
        self.wait_for_text("Log out").await;
    }

    /// What asynchronous `script` passes to its callback (its last argument).
    pub(crate) async fn script_async(&self, script: &str) -> serde_json::Value {
        self.client
            .execute_async(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running {script}: {e}"))
    }

    /// The `name` of the element that has the focus (empty when it has none).
    pub(crate) async fn focused_name(&self) -> String {
        let focused = self.client.active_element().await.unwrap();
        focused.attr("name").await.unwrap().unwrap_or_default()
    }

    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }
}
