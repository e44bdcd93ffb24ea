//! The browser test harness. `run` starts, for one test, `chamado demo` on a
//! fresh data folder and a free loopback port, chromedriver on another free
//! port, and a headless Chromium session with a fresh profile; it hands the
//! test a `Browser`, and stops everything afterwards, on success, failure or
//! timeout. Tests run one at a time.
//!
//! `Browser` methods panic with a message naming the selector and the page,
//! so tests read as a list of steps.

use std::{
    any::Any,
    collections::BTreeMap,
    fmt::Write as _,
    fs,
    future::Future,
    io::Read as _,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::Mutex;

use crate::webdriver::{self, Element, Session};

/// Every demo account's password.
pub const DEMO_PASSWORD: &str = "chamado-demo";

/// Debian's `chromium` and `chromium-driver` packages.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `.ci/run` installs axe-core and points this at `axe.min.js`.
const AXE_ENV: &str = "CHAMADO_E2E_AXE";
/// The version `.ci/run` installs; only used in the advice when it is missing.
const AXE_INSTALL_HINT: &str = "npm install --no-save --no-package-lock --prefix target/axe axe-core@4.14.1 \
     && export CHAMADO_E2E_AXE=target/axe/node_modules/axe-core/axe.min.js";

/// How long a whole test may take.
const TEST_TIMEOUT: Duration = Duration::from_mins(3);
/// How long `wait_for` and friends wait for the page to get there.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

/// One test at a time: each starts its own server and browser, and the
/// machine running them has few cores.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// Where screenshots go: `target/e2e-screenshots/<test>-<step>.png`.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .join("e2e-screenshots")
}

/// Runs one browser test: starts the server, chromedriver and Chromium,
/// runs `body`, then checks that the pages reported no Content-Security-Policy
/// violation or uncaught script error. On failure it saves
/// `<test>-failed.png`, prints the end of the server's log, and fails the test.
pub async fn run<F, Fut>(test: &'static str, body: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_with_env(test, &[], body).await;
}

/// Like [`run`], with extra `CHAMADO_*` settings for the server, such as
/// `("CHAMADO_JOBS_INTERVAL_SECS", "1")`.
pub async fn run_with_env<F, Fut>(test: &'static str, env: &[(&str, &str)], body: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _serial = SERIAL.lock().await;
    let _ = fs::remove_file(screenshot_dir().join(format!("{test}-failed.png")));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let stack = Stack::start(test, env).await;
    let browser = stack.browser();

    let checked = browser.clone();
    let test_body = body(browser.clone());
    let mut task = tokio::spawn(async move {
        test_body.await;
        checked.assert_no_page_problems().await;
    });
    let failure: Option<Box<dyn Any + Send>> =
        match tokio::time::timeout(TEST_TIMEOUT, &mut task).await {
            Ok(Ok(())) => None,
            Ok(Err(error)) if error.is_panic() => Some(error.into_panic()),
            Ok(Err(error)) => Some(Box::new(format!("the test task ended: {error}"))),
            Err(_) => {
                task.abort();
                Some(Box::new(format!(
                    "{test} did not finish within {TEST_TIMEOUT:?}"
                )))
            }
        };

    if let Some(panic) = failure {
        let shot = tokio::time::timeout(Duration::from_secs(15), async {
            let url = browser.session.current_url().await.unwrap_or_default();
            (url, browser.try_screenshot("failed").await)
        })
        .await;
        match shot {
            Ok((url, Ok(path))) => {
                eprintln!("{test} failed on {url}; screenshot: {}", path.display());
            }
            Ok((url, Err(error))) => eprintln!("{test} failed on {url}; no screenshot: {error}"),
            Err(_) => eprintln!("{test} failed; the browser did not answer for a screenshot"),
        }
        stack.print_logs();
        let _ = tokio::time::timeout(Duration::from_secs(10), browser.session.delete()).await;
        drop(stack);
        std::panic::resume_unwind(panic);
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), browser.session.delete()).await;
}

/// A free TCP port on loopback. The listener is closed before the port is
/// used, so another process can take it in between: the starts below retry
/// on a new port when the one given is taken.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn executable(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is missing: the browser tests need Debian's packages chromium and chromium-driver \
         (apt-get install chromium chromium-driver; .ci/run installs them), or {env} set to \
         another path",
        path.display()
    );
    path
}

/// The last `lines` lines of a log file, each cut at 300 characters
/// (chromedriver logs whole screenshots as base64).
fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|line| match line.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => (*line).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The processes of one test; `Drop` stops them, also while a panic unwinds.
struct Stack {
    test: &'static str,
    /// Extra settings for the server.
    env: Vec<(String, String)>,
    server: Option<Child>,
    base_url: String,
    driver: Option<Child>,
    driver_addr: SocketAddr,
    session: Option<Session>,
    browser_pid: Option<u32>,
    dir: TempDir,
}

impl Stack {
    async fn start(test: &'static str, env: Vec<(String, String)>) -> Stack {
        let chromium = executable("CHAMADO_E2E_CHROMIUM", CHROMIUM);
        let chromedriver = executable("CHAMADO_E2E_CHROMEDRIVER", CHROMEDRIVER);
        let dir = tempfile::Builder::new()
            .prefix(&format!("chamado-e2e-{test}-"))
            .tempdir()
            .expect("a temporary folder");
        let mut server_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let driver_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut stack = Stack {
            test,
            env,
            server: None,
            base_url: format!("http://{server_addr}"),
            driver: None,
            driver_addr,
            session: None,
            browser_pid: None,
            dir,
        };
        // A port found free can be taken by another process before it is
        // bound (parallel tests open many connections); such a start is
        // retried on a new port instead of failing the test.
        let mut attempts = 0;
        while !stack.start_server(server_addr).await {
            attempts += 1;
            assert!(attempts < 5, "no free port for the server after 5 tries");
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            stack.base_url = format!("http://{addr}");
            server_addr = addr;
        }
        let mut attempts = 0;
        while !stack.start_driver(&chromedriver).await {
            attempts += 1;
            assert!(attempts < 5, "no free port for chromedriver after 5 tries");
            stack.driver_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        }
        stack.start_browser(&chromium).await;
        stack
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log_file(&self, name: &str) -> fs::File {
        fs::File::create(self.path(name)).expect("create a log file")
    }

    /// `chamado demo` with only the settings given here: no `CHAMADO_*`
    /// variable of the caller's, no `chamado.toml` of the working folder.
    /// `false` when the port turned out to be taken (the caller retries).
    async fn start_server(&mut self, addr: SocketAddr) -> bool {
        let data_dir = self.path("data");
        let log = self.log_file("server.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_chamado"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("CHAMADO_") {
                command.env_remove(name);
            }
        }
        command
            .arg("demo")
            .arg("--data-dir")
            .arg(&data_dir)
            .current_dir(self.dir.path())
            .env("CHAMADO_BIND", addr.to_string())
            .env("CHAMADO_BASE_URL", &self.base_url)
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file handle"))
            .stderr(log);
        self.server = Some(command.spawn().expect("start `chamado demo`"));

        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            if let Some(status) = self
                .server
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let log = tail(&self.path("server.log"), 40);
                if log.contains("in use") {
                    self.server = None;
                    return false;
                }
                panic!("`chamado demo` exited with {status} before it was ready:\n{log}");
            }
            if let Ok((200, _)) = webdriver::http(addr, "GET", "/readyz", None).await {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "GET {}/readyz did not answer 200 within 60 s:\n{}",
                self.base_url,
                tail(&self.path("server.log"), 40)
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// `false` when the port turned out to be taken (the caller retries).
    async fn start_driver(&mut self, chromedriver: &Path) -> bool {
        let log = self.log_file("chromedriver.out");
        self.driver = Some(
            Command::new(chromedriver)
                .arg(format!("--port={}", self.driver_addr.port()))
                .arg(format!(
                    "--log-path={}",
                    self.path("chromedriver.log").display()
                ))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log file handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display())),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self
                .driver
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let out = tail(&self.path("chromedriver.out"), 20);
                if out.contains("port not available") {
                    self.driver = None;
                    return false;
                }
                panic!("chromedriver exited with {status}:\n{out}");
            }
            if webdriver::driver_ready(self.driver_addr).await {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver was not ready on {} within 30 s",
                self.driver_addr
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn start_browser(&mut self, chromium: &Path) {
        let profile = self.path("profile");
        fs::create_dir_all(&profile).expect("create the Chromium profile folder");
        // Without the background-networking switches Chromium keeps trying to
        // reach Google's services, which a closed network refuses noisily.
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-quic".to_owned(),
            "--window-size=1280,900".to_owned(),
            "--lang=pt-BR".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
                "prefs": { "intl.accept_languages": "pt-BR,pt" },
                "perfLoggingPrefs": { "enableNetwork": true, "enablePage": false },
            },
            // `browser`: console messages (CSP violations, uncaught errors);
            // `performance`: network events, for status codes and redirects.
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        });
        let session = Session::start(self.driver_addr, capabilities)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "start a Chromium session: {e}\n{}",
                    tail(&self.path("chromedriver.log"), 30)
                )
            });
        self.browser_pid = session.capabilities()["goog:processID"]
            .as_u64()
            .and_then(|pid| u32::try_from(pid).ok());
        session
            .set_timeouts(
                Duration::from_mins(1),
                Duration::from_secs(30),
                Duration::ZERO,
            )
            .await
            .expect("set the session's timeouts");
        self.session = Some(session);
    }

    fn browser(&self) -> Browser {
        Browser {
            session: self.session.clone().expect("a browser session"),
            base_url: self.base_url.clone(),
            test: self.test,
        }
    }

    fn print_logs(&self) {
        eprintln!(
            "----- end of the chamado demo log -----\n{}\n----- end of the chromedriver log -----\n{}\n-----",
            tail(&self.path("server.log"), 60),
            tail(&self.path("chromedriver.log"), 15),
        );
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            // `/shutdown` closes the browser too; killing chromedriver would
            // leave Chromium running.
            webdriver::shutdown_blocking(self.driver_addr);
            let deadline = Instant::now() + Duration::from_secs(5);
            while driver.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(POLL);
            }
            let _ = driver.kill();
            let _ = driver.wait();
        }
        // If chromedriver could not close it, stop our Chromium by its id,
        // after checking that the process is ours (its profile folder).
        if let Some(pid) = self.browser_pid {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let profile = self.path("profile");
            if String::from_utf8_lossy(&cmdline).contains(&*profile.to_string_lossy()) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// A document the browser loaded: the final response of a navigation, or a
/// redirect on the way there.
#[derive(Clone, Debug)]
pub struct Navigation {
    pub url: String,
    pub status: u16,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
}

impl Navigation {
    /// The URL's path, without the query.
    pub fn path(&self) -> &str {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        let path = rest.find('/').map_or("/", |i| &rest[i..]);
        path.split(['?', '#']).next().unwrap_or(path)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The browser of one test, on the server of that test.
#[derive(Clone, Debug)]
pub struct Browser {
    session: Session,
    base_url: String,
    test: &'static str,
}

impl Browser {
    /// The raw `WebDriver` session, for what the helpers do not cover.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The absolute URL of a path on the server under test.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Opens a path (`/login`, `/portal/tickets?status=open`) and waits for
    /// the page to load.
    pub async fn goto(&self, path: &str) {
        self.session
            .navigate(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.session
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("read the current URL: {e}"))
    }

    /// The current URL without the origin: path and query, e.g.
    /// `/demo/host?return_to=%2Fportal`.
    pub async fn path(&self) -> String {
        let url = self.current_url().await;
        url.strip_prefix(&self.base_url)
            .map_or_else(|| url.clone(), str::to_owned)
    }

    pub async fn title(&self) -> String {
        self.session
            .title()
            .await
            .unwrap_or_else(|e| panic!("read the title: {e}"))
    }

    pub async fn source(&self) -> String {
        self.session
            .source()
            .await
            .unwrap_or_else(|e| panic!("read the page source: {e}"))
    }

    /// Runs a script in the page (`arguments` are `args`) and returns its
    /// result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        match self.session.execute(script, args).await {
            Ok(value) => value,
            Err(e) => panic!("run a script on {}: {e}", self.path().await),
        }
    }

    /// The first element matching `css`, if there is one now.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        match self.session.find(css).await {
            Ok(element) => Some(element),
            Err(e) if e.code() == Some("no such element") => None,
            Err(e) => panic!("find {css:?}: {e}"),
        }
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.session
            .find_all(css)
            .await
            .unwrap_or_else(|e| panic!("find {css:?}: {e}"))
    }

    pub async fn count(&self, css: &str) -> usize {
        self.find_all(css).await.len()
    }

    /// Waits until an element matches `css` and returns the first.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.try_find(css).await {
                return element;
            }
            assert!(
                Instant::now() < deadline,
                "nothing matches {css:?} on {} after {WAIT:?}",
                self.path().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the current URL's path (query ignored) is `path`; returns
    /// path and query.
    pub async fn wait_for_path(&self, path: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let current = self.path().await;
            if current.split(['?', '#']).next() == Some(path) {
                return current;
            }
            assert!(
                Instant::now() < deadline,
                "expected to reach {path}, but the browser is on {current}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Clicks the first element matching `css` (a link, a submit button)
    /// and waits until the next page has loaded.
    pub async fn click_and_wait(&self, css: &str) {
        let element = self.wait_for(css).await;
        self.execute("window.__chamadoE2eOldPage = true;", vec![])
            .await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
        let deadline = Instant::now() + WAIT;
        let script = "return window.__chamadoE2eOldPage === undefined \
                      && document.readyState === 'complete';";
        loop {
            // While the old page unloads a script may fail; that only means
            // "not yet".
            let result = self.session.execute(script, vec![]).await;
            if matches!(result, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "clicking {css:?} did not load a new page within {WAIT:?} (now on {}, last check: {result:?})",
                self.path().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Replaces the value of the input or textarea matching `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait_for(css).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css:?}: {e}"));
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// Chooses a file in the `input[type=file]` matching `css`.
    pub async fn upload(&self, css: &str, file: &Path) {
        let file = fs::canonicalize(file)
            .unwrap_or_else(|e| panic!("the file to upload, {}: {e}", file.display()));
        let element = self.wait_for(css).await;
        element
            .send_keys(&file.to_string_lossy())
            .await
            .unwrap_or_else(|e| panic!("choose {} in {css:?}: {e}", file.display()));
    }

    /// Makes the browser save downloads into `dir` without asking. Call it
    /// before clicking a download link: headless Chromium otherwise saves
    /// into chromedriver's working folder.
    pub async fn save_downloads_in(&self, dir: &Path) {
        let dir = fs::canonicalize(dir)
            .unwrap_or_else(|e| panic!("the download folder, {}: {e}", dir.display()));
        self.session
            .cdp(
                "Browser.setDownloadBehavior",
                json!({ "behavior": "allow", "downloadPath": dir.to_string_lossy() }),
            )
            .await
            .unwrap_or_else(|e| panic!("let the browser download into {}: {e}", dir.display()));
    }

    /// Waits until the browser has finished saving `name` into `dir` (see
    /// `save_downloads_in`) and returns the file's bytes.
    pub async fn downloaded(&self, dir: &Path, name: &str) -> Vec<u8> {
        let file = dir.join(name);
        let deadline = Instant::now() + WAIT;
        loop {
            // Chromium writes `<name>.crdownload` and renames it when done.
            let in_progress = fs::read_dir(dir).is_ok_and(|entries| {
                entries
                    .flatten()
                    .any(|entry| entry.file_name().to_string_lossy().ends_with(".crdownload"))
            });
            if !in_progress && let Ok(bytes) = fs::read(&file) {
                return bytes;
            }
            if Instant::now() >= deadline {
                let found: Vec<String> = fs::read_dir(dir)
                    .map(|entries| {
                        entries
                            .flatten()
                            .map(|entry| entry.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                panic!(
                    "the browser did not save {name} within {WAIT:?} (on {}; the download \
                     folder holds {found:?})",
                    self.path().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether the checkbox or radio button matching `css` is checked.
    pub async fn is_checked(&self, css: &str) -> bool {
        let element = self.wait_for(css).await;
        element
            .property("checked")
            .await
            .unwrap_or_else(|e| panic!("read whether {css:?} is checked: {e}"))
            == Value::Bool(true)
    }

    /// The rendered text of the first element matching `css`, trimmed.
    pub async fn text(&self, css: &str) -> String {
        let element = self.wait_for(css).await;
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("read the text of {css:?}: {e}"))
            .trim()
            .to_owned()
    }

    /// The rendered texts of every element matching `css`, trimmed.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            let text = element
                .text()
                .await
                .unwrap_or_else(|e| panic!("read the text of {css:?}: {e}"));
            texts.push(text.trim().to_owned());
        }
        texts
    }

    /// The rendered text of the whole page.
    pub async fn body_text(&self) -> String {
        self.text("body").await
    }

    /// An attribute of the first element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let element = self.wait_for(css).await;
        element
            .attribute(name)
            .await
            .unwrap_or_else(|e| panic!("read {name} of {css:?}: {e}"))
    }

    /// The documents the browser loaded since the last call (or the start),
    /// in order, redirects included: status codes and response headers,
    /// which `WebDriver` itself does not show.
    pub async fn navigations(&self) -> Vec<Navigation> {
        let entries = self
            .session
            .take_log("performance")
            .await
            .unwrap_or_else(|e| panic!("read the performance log: {e}"));
        let mut navigations = Vec::new();
        for entry in entries {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<Value>(message) else {
                continue;
            };
            let event = &event["message"];
            let params = &event["params"];
            if params["type"] != "Document" {
                continue;
            }
            let response = match event["method"].as_str() {
                Some("Network.requestWillBeSent") => &params["redirectResponse"],
                Some("Network.responseReceived") => &params["response"],
                _ => continue,
            };
            if let (Some(url), Some(status)) =
                (response["url"].as_str(), response["status"].as_u64())
            {
                let headers = response["headers"]
                    .as_object()
                    .map(|map| {
                        map.iter()
                            .map(|(k, v)| {
                                (
                                    k.to_ascii_lowercase(),
                                    v.as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                navigations.push(Navigation {
                    url: url.to_owned(),
                    status: u16::try_from(status).unwrap_or_default(),
                    headers,
                });
            }
        }
        navigations
    }

    /// Opens `path` and returns the response to it (the last document
    /// loaded, after any redirects).
    pub async fn goto_response(&self, path: &str) -> Navigation {
        self.navigations().await;
        self.goto(path).await;
        let navigations = self.navigations().await;
        navigations
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("no document response recorded for {path}"))
    }

    /// Saves a full-page PNG as `target/e2e-screenshots/<test>-<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.try_screenshot(name)
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"))
    }

    /// Saves what the window shows (not the whole page) as
    /// `target/e2e-screenshots/<test>-<name>.png`.
    pub async fn screenshot_viewport(&self, name: &str) -> PathBuf {
        let png = self
            .session
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let dir = screenshot_dir();
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let file = dir.join(format!("{}-{name}.png", self.test));
        fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        file
    }

    async fn try_screenshot(&self, name: &str) -> Result<PathBuf, String> {
        let png = match self.session.full_page_screenshot().await {
            Ok(png) => png,
            Err(_) => self.session.screenshot().await.map_err(|e| e.to_string())?,
        };
        let dir = screenshot_dir();
        fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let file = dir.join(format!("{}-{name}.png", self.test));
        fs::write(&file, png).map_err(|e| format!("write {}: {e}", file.display()))?;
        Ok(file)
    }

    /// Runs axe-core on the current page and fails on any violation of
    /// impact "serious" or "critical", listing rule, impact and the elements.
    /// Lesser violations are printed, not failed on.
    pub async fn axe_check(&self) {
        let page = self.path().await;
        let loaded = self
            .execute(
                "return typeof window.axe === 'object' && typeof window.axe.run === 'function';",
                vec![],
            )
            .await;
        if loaded != Value::Bool(true) {
            self.execute(axe_source(), vec![]).await;
        }
        let script = r"
            const done = arguments[arguments.length - 1];
            window.axe.run(document, { resultTypes: ['violations'] })
              .then((results) => done({ violations: results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
              })) }))
              .catch((e) => done({ error: String((e && e.stack) || e) }));
        ";
        let result = self
            .session
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run axe-core on {page}: {e}"));
        if let Some(error) = result["error"].as_str() {
            panic!("axe-core failed on {page}: {error}");
        }
        let violations = result["violations"].as_array().cloned().unwrap_or_default();
        let (blocking, other): (Vec<&Value>, Vec<&Value>) = violations
            .iter()
            .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
        for violation in &other {
            eprintln!(
                "axe-core on {page} (not failing the test): {}",
                describe_violation(violation)
            );
        }
        assert!(
            blocking.is_empty(),
            "axe-core found {} serious or critical accessibility violation(s) on {page}:\n{}",
            blocking.len(),
            blocking
                .iter()
                .map(|v| describe_violation(v))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Waits up to `within` until an element matching `css` has `text` in
    /// its rendered text; returns that text.
    pub async fn wait_for_text(&self, css: &str, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            for element in self.find_all(css).await {
                if let Ok(found) = element.text().await
                    && found.contains(text)
                {
                    return found.trim().to_owned();
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {css:?} shows {text:?} on {} after {within:?}; they show {:?}",
                self.path().await,
                self.texts(css).await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends the next commands into the iframe matching `css` (in the
    /// current document), once it is there.
    pub async fn enter_frame(&self, css: &str) {
        let frame = self.wait_for(css).await;
        self.session
            .switch_to_frame(Some(&frame))
            .await
            .unwrap_or_else(|e| panic!("switch into the frame {css:?}: {e}"));
    }

    /// Sends the next commands to the top-level document again.
    pub async fn leave_frame(&self) {
        self.session
            .switch_to_frame(None)
            .await
            .unwrap_or_else(|e| panic!("switch back to the top-level document: {e}"));
    }

    /// The handles of the open windows and tabs.
    pub async fn window_handles(&self) -> Vec<String> {
        self.session
            .window_handles()
            .await
            .unwrap_or_else(|e| panic!("list the windows: {e}"))
    }

    /// The handle of the window the commands go to.
    pub async fn window_handle(&self) -> String {
        self.session
            .window_handle()
            .await
            .unwrap_or_else(|e| panic!("read the current window: {e}"))
    }

    /// Waits until a window or tab not among `known` opens, switches to it
    /// and returns its handle.
    pub async fn switch_to_new_window(&self, known: &[String]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let handles = self.window_handles().await;
            if let Some(handle) = handles.iter().find(|h| !known.contains(h)) {
                self.session
                    .switch_to_window(handle)
                    .await
                    .unwrap_or_else(|e| panic!("switch to the new window: {e}"));
                return handle.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no new window or tab opened within {WAIT:?} (open: {handles:?})"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Closes the current window or tab and goes to `handle`.
    pub async fn close_window_for(&self, handle: &str) {
        self.session
            .close_window()
            .await
            .unwrap_or_else(|e| panic!("close the window: {e}"));
        self.session
            .switch_to_window(handle)
            .await
            .unwrap_or_else(|e| panic!("switch to window {handle}: {e}"));
    }

    /// Resizes the browser window.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.session
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize the window to {width}×{height}: {e}"));
    }

    /// A cookie-keeping HTTP client on the server under test, for what a
    /// second person does while the browser watches (an agent's reply).
    pub fn http_client(&self) -> HttpClient {
        let authority = self
            .base_url
            .strip_prefix("http://")
            .unwrap_or(&self.base_url);
        HttpClient {
            addr: authority.parse().expect("the server's address"),
            cookies: BTreeMap::new(),
        }
    }

    /// Fails on Content-Security-Policy violations and uncaught script errors
    /// the pages logged to the console since the last call. `run` calls it at
    /// the end of every test.
    pub async fn assert_no_page_problems(&self) {
        let entries = self
            .session
            .take_log("browser")
            .await
            .unwrap_or_else(|e| panic!("read the browser console log: {e}"));
        let problems: Vec<String> = entries
            .iter()
            .filter_map(|entry| entry["message"].as_str())
            .filter(|message| {
                message.contains("Content Security Policy") || message.contains("Uncaught")
            })
            .map(str::to_owned)
            .collect();
        assert!(
            problems.is_empty(),
            "the pages reported problems in the console:\n{}",
            problems.join("\n")
        );
    }
}

/// One violation as a few readable lines.
fn describe_violation(violation: &Value) -> String {
    let mut text = format!(
        "  - {} ({}): {} <{}>",
        violation["id"].as_str().unwrap_or("?"),
        violation["impact"].as_str().unwrap_or("no impact"),
        violation["help"].as_str().unwrap_or_default(),
        violation["helpUrl"].as_str().unwrap_or_default(),
    );
    for node in violation["nodes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let target = node["target"]
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(" >>> ")
            })
            .unwrap_or_default();
        // "Fix any of the following:\n  reason\n  reason" on one line.
        let summary = node["summary"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(text, "\n      {target}: {summary}");
    }
    text
}

/// The text of `axe.min.js`, read once from the path in `CHAMADO_E2E_AXE`
/// (relative paths are relative to the package root).
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let Some(path) = std::env::var_os(AXE_ENV).filter(|p| !p.is_empty()) else {
            panic!(
                "{AXE_ENV} is not set, so the accessibility check cannot run. Install axe-core \
                 (not committed) and point {AXE_ENV} at axe.min.js, as .ci/run does:\n  \
                 {AXE_INSTALL_HINT}"
            );
        };
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{AXE_ENV}={}: cannot read it ({e}). Install axe-core as .ci/run does:\n  \
                 {AXE_INSTALL_HINT}",
                path.display()
            )
        })
    })
}

/// A small HTTP client with a cookie jar, talking to the server under test
/// outside the browser.
#[derive(Debug)]
pub struct HttpClient {
    addr: SocketAddr,
    cookies: BTreeMap<String, String>,
}

/// One response to [`HttpClient`].
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl HttpClient {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpReply {
        let cookie = self.cookie_header();
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if !cookie.is_empty() {
            all.push(("Cookie", &cookie));
        }
        let (status, headers, body) = webdriver::http_exchange(self.addr, method, path, &all, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let mut location = None;
        for (name, value) in headers {
            if name == "set-cookie" {
                let pair = value.split(';').next().unwrap_or_default();
                if let Some((key, val)) = pair.split_once('=') {
                    if val.is_empty() || value.contains("Max-Age=0") {
                        self.cookies.remove(key.trim());
                    } else {
                        self.cookies.insert(key.trim().to_owned(), val.to_owned());
                    }
                }
            } else if name == "location" {
                location = Some(value);
            }
        }
        HttpReply {
            status,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> HttpReply {
        self.send("GET", path, &[], &[]).await
    }

    /// Posts an url-encoded form (the CSRF token is one of `fields`).
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> HttpReply {
        let body = serde_urlencoded::to_string(fields).expect("encode the form");
        self.send(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
        .await
    }

    /// Posts a multipart form of text fields, with the CSRF token in the
    /// `X-CSRF-Token` header.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        csrf: &str,
        fields: &[(&str, &str)],
    ) -> HttpReply {
        const BOUNDARY: &str = "chamado-e2e-boundary-7d1f";
        let mut body = String::new();
        for (name, value) in fields {
            let _ = write!(
                body,
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            );
        }
        let _ = write!(body, "--{BOUNDARY}--\r\n");
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        self.send(
            "POST",
            path,
            &[("Content-Type", &content_type), ("X-CSRF-Token", csrf)],
            body.as_bytes(),
        )
        .await
    }

    /// Signs in at `/login` with the demo password.
    pub async fn sign_in(&mut self, email: &str) {
        let page = self.get("/login").await;
        let csrf = csrf_token_in(&page.body);
        let reply = self
            .post_form(
                "/login",
                &[
                    ("email", email),
                    ("password", DEMO_PASSWORD),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert!(
            (300..400).contains(&reply.status) && self.cookies.contains_key("chamado_session"),
            "signing in as {email} over HTTP answered {}: {}",
            reply.status,
            reply.body
        );
    }
}

/// The value of the first `csrf_token` field of a page.
pub fn csrf_token_in(html: &str) -> String {
    input_value_in(html, "csrf_token")
}

/// The `value` of the first input named `name` in a page (the attribute
/// after the name).
pub fn input_value_in(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} field in the page:\n{html}"));
    let rest = &html[at..];
    let marker = "value=\"";
    let start = rest.find(marker).map_or_else(
        || panic!("no value for the {name} field"),
        |i| i + marker.len(),
    );
    let end = rest[start..].find('"').expect("the end of the value");
    rest[start..start + end].to_owned()
}
