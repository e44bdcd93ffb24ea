//! A small W3C `WebDriver` client for chromedriver on loopback: HTTP/1.1 over a
//! tokio `TcpStream`, JSON with `serde_json`, one connection per command. It
//! has only what the browser tests use; `support::Browser` builds the test
//! helpers on top of it.

use std::{fmt, net::SocketAddr, time::Duration};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The key under which the W3C protocol sends and expects element references.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long one command may take, page loads and asynchronous scripts
/// included (their own timeouts are shorter, so this only catches a hung
/// driver).
const COMMAND_TIMEOUT: Duration = Duration::from_mins(2);

#[derive(Debug)]
pub enum Error {
    /// The driver answered with a `WebDriver` error (`no such element`, …).
    WebDriver {
        command: String,
        error: String,
        message: String,
    },
    /// The driver could not be reached or answered something unreadable.
    Transport { command: String, detail: String },
}

impl Error {
    /// The `WebDriver` error code, such as `no such element`.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::WebDriver { error, .. } => Some(error),
            Error::Transport { .. } => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WebDriver {
                command,
                error,
                message,
            } => {
                // Chromedriver appends a long native stack trace; the first
                // lines are the useful part.
                let short: Vec<&str> = message.lines().take(3).collect();
                write!(f, "{command}: {error}: {}", short.join(" | "))
            }
            Error::Transport { command, detail } => write!(f, "{command}: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// One HTTP/1.1 exchange with `Connection: close`; returns status and body.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::result::Result<(u16, Vec<u8>), String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Accept: application/json\r\nContent-Type: application/json; charset=utf-8\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("send to {addr}: {e}"))?;
        read_response(&mut stream).await
    };
    tokio::time::timeout(COMMAND_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer from {addr} within {COMMAND_TIMEOUT:?}"))?
}

/// Reads one response: the head, then a `Content-Length` body, a chunked
/// body, or everything up to the end of the stream.
async fn read_response(stream: &mut TcpStream) -> std::result::Result<(u16, Vec<u8>), String> {
    read_full_response(stream)
        .await
        .map(|(status, _, body)| (status, body))
}

/// One HTTP response: status, headers (names in lower case) and body.
pub type RawResponse = (u16, Vec<(String, String)>, Vec<u8>);

/// One HTTP/1.1 exchange with `Connection: close` and the given headers and
/// body (for requests to the application under test, not to the driver).
pub async fn http_exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::result::Result<RawResponse, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        stream
            .write_all(&request)
            .await
            .map_err(|e| format!("send to {addr}: {e}"))?;
        read_full_response(&mut stream).await
    };
    tokio::time::timeout(COMMAND_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer from {addr} within {COMMAND_TIMEOUT:?}"))?
}

async fn read_full_response(stream: &mut TcpStream) -> std::result::Result<RawResponse, String> {
    let mut headers = Vec::new();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut head_end = None;
    let mut content_length = None;
    let mut chunked = false;
    let mut status = 0;
    loop {
        if head_end.is_none()
            && let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n")
        {
            let head = String::from_utf8_lossy(&buf[..pos]).into_owned();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or_default();
            status = status_line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad status line {status_line:?}"))?;
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                headers.push((name.trim().to_ascii_lowercase(), value.to_owned()));
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding")
                    && value.eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
            head_end = Some(pos + 4);
        }
        if let (Some(start), Some(len), false) = (head_end, content_length, chunked)
            && buf.len() >= start + len
        {
            return Ok((status, headers, buf[start..start + len].to_vec()));
        }
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let start = head_end.ok_or("connection closed before the response head")?;
    let body = &buf[start..];
    if chunked {
        Ok((status, headers, dechunk(body)?))
    } else if let Some(len) = content_length {
        Err(format!(
            "connection closed after {} of {len} body bytes",
            body.len()
        ))
    } else {
        Ok((status, headers, body.to_vec()))
    }
}

fn dechunk(mut body: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("truncated chunk".to_owned());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
}

/// Runs one `WebDriver` command and returns its `value`.
async fn command(
    driver: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value> {
    let name = format!("{method} {path}");
    let (status, bytes) =
        http(driver, method, path, body)
            .await
            .map_err(|detail| Error::Transport {
                command: name.clone(),
                detail,
            })?;
    let mut reply: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Transport {
        command: name.clone(),
        detail: format!(
            "HTTP {status}, body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        ),
    })?;
    let value = reply.get_mut("value").map(Value::take).unwrap_or_default();
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        return Err(Error::WebDriver {
            command: name,
            error: error.to_owned(),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        });
    }
    if status != 200 {
        return Err(Error::Transport {
            command: name,
            detail: format!("HTTP {status}: {reply}"),
        });
    }
    Ok(value)
}

/// Whether chromedriver at `driver` answers `/status` with `ready: true`.
pub async fn driver_ready(driver: SocketAddr) -> bool {
    command(driver, "GET", "/status", None)
        .await
        .is_ok_and(|v| v.get("ready").and_then(Value::as_bool) == Some(true))
}

/// One browser session. Cloning shares the session.
#[derive(Clone, Debug)]
pub struct Session {
    driver: SocketAddr,
    id: String,
    capabilities: Value,
}

/// A reference to an element of the current page.
#[derive(Clone, Debug)]
pub struct Element {
    session: Session,
    id: String,
}

impl Session {
    /// `POST /session` with these capabilities (the `alwaysMatch` object).
    pub async fn start(driver: SocketAddr, capabilities: Value) -> Result<Session> {
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } });
        let value = command(driver, "POST", "/session", Some(&body)).await?;
        let id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Transport {
                command: "POST /session".to_owned(),
                detail: format!("no sessionId in {value}"),
            })?
            .to_owned();
        Ok(Session {
            driver,
            id,
            capabilities: value.get("capabilities").cloned().unwrap_or_default(),
        })
    }

    /// What the driver granted, e.g. `goog:processID`.
    pub fn capabilities(&self) -> &Value {
        &self.capabilities
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let path = format!("/session/{}{path}", self.id);
        command(self.driver, method, &path, body.as_ref()).await
    }

    pub async fn delete(&self) -> Result<()> {
        self.cmd("DELETE", "", None).await.map(drop)
    }

    /// Script, page-load and implicit-wait timeouts.
    pub async fn set_timeouts(
        &self,
        script: Duration,
        page_load: Duration,
        implicit: Duration,
    ) -> Result<()> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.cmd(
            "POST",
            "/timeouts",
            Some(json!({
                "script": ms(script),
                "pageLoad": ms(page_load),
                "implicit": ms(implicit),
            })),
        )
        .await
        .map(drop)
    }

    /// Navigates and waits for the page to load.
    pub async fn navigate(&self, url: &str) -> Result<()> {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    pub async fn current_url(&self) -> Result<String> {
        let value = self.cmd("GET", "/url", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub async fn title(&self) -> Result<String> {
        let value = self.cmd("GET", "/title", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub async fn source(&self) -> Result<String> {
        let value = self.cmd("GET", "/source", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The first element matching the CSS selector.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let value = self
            .cmd(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        self.element(&value)
    }

    /// Every element matching the CSS selector, in document order.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let value = self
            .cmd(
                "POST",
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        value
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|v| self.element(v))
            .collect()
    }

    fn element(&self, value: &Value) -> Result<Element> {
        let id = value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Transport {
                command: "find element".to_owned(),
                detail: format!("no element reference in {value}"),
            })?;
        Ok(Element {
            session: self.clone(),
            id: id.to_owned(),
        })
    }

    /// Runs `script` as the body of a function with `args` as `arguments`;
    /// returns what it returns. Elements in `args` go as `Element::to_json`.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Like `execute`, but the script finishes by calling the callback passed
    /// as its last argument; returns the value given to the callback.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let value = self.cmd("GET", "/screenshot", None).await?;
        decode_png(&value)
    }

    /// A PNG of the whole page, beyond the viewport (a command of the Chrome
    /// `DevTools` protocol, through chromedriver).
    pub async fn full_page_screenshot(&self) -> Result<Vec<u8>> {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await?;
        let size = &metrics["cssContentSize"];
        let (width, height) = (
            size["width"].as_f64().unwrap_or(1280.0),
            size["height"].as_f64().unwrap_or(900.0),
        );
        let value = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                }),
            )
            .await?;
        decode_png(&value["data"])
    }

    /// A command of the Chrome `DevTools` protocol.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": cmd, "params": params })),
        )
        .await
    }

    /// Makes the frame `element` the context of the next commands; `None`
    /// goes back to the top-level document.
    pub async fn switch_to_frame(&self, element: Option<&Element>) -> Result<()> {
        let id = element.map_or(Value::Null, Element::to_json);
        self.cmd("POST", "/frame", Some(json!({ "id": id })))
            .await
            .map(drop)
    }

    /// Deletes the cookie `name` of the current page.
    pub async fn delete_cookie(&self, name: &str) -> Result<()> {
        self.cmd("DELETE", &format!("/cookie/{name}"), None)
            .await
            .map(drop)
    }

    /// The handles of every open window and tab.
    pub async fn window_handles(&self) -> Result<Vec<String>> {
        let value = self.cmd("GET", "/window/handles", None).await?;
        Ok(value
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect())
    }

    /// The handle of the window commands go to.
    pub async fn window_handle(&self) -> Result<String> {
        let value = self.cmd("GET", "/window", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Sends the next commands to the window or tab `handle`.
    pub async fn switch_to_window(&self, handle: &str) -> Result<()> {
        self.cmd("POST", "/window", Some(json!({ "handle": handle })))
            .await
            .map(drop)
    }

    /// Closes the current window or tab.
    pub async fn close_window(&self) -> Result<()> {
        self.cmd("DELETE", "/window", None).await.map(drop)
    }

    /// Resizes the window (outer size, in CSS pixels).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(drop)
    }

    /// Takes the entries of a log (`browser`, `performance`) collected since
    /// the last call; chromedriver keeps them until asked.
    pub async fn take_log(&self, kind: &str) -> Result<Vec<Value>> {
        let value = self
            .cmd("POST", "/se/log", Some(json!({ "type": kind })))
            .await?;
        Ok(match value {
            Value::Array(entries) => entries,
            _ => Vec::new(),
        })
    }
}

fn decode_png(value: &Value) -> Result<Vec<u8>> {
    let text = value.as_str().unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::Transport {
            command: "screenshot".to_owned(),
            detail: format!("the PNG is not valid base64: {e}"),
        })
}

impl Element {
    /// The reference to pass in `execute` arguments.
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        self.session
            .cmd(method, &format!("/element/{}{path}", self.id), body)
            .await
    }

    pub async fn click(&self) -> Result<()> {
        self.cmd("POST", "/click", Some(json!({}))).await.map(drop)
    }

    pub async fn clear(&self) -> Result<()> {
        self.cmd("POST", "/clear", Some(json!({}))).await.map(drop)
    }

    /// Types the text; for `input[type=file]`, the text is a file path.
    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.cmd("POST", "/value", Some(json!({ "text": text })))
            .await
            .map(drop)
    }

    /// The rendered text, as a reader sees it.
    pub async fn text(&self) -> Result<String> {
        let value = self.cmd("GET", "/text", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The attribute's value, or `None` when the element has no such attribute.
    pub async fn attribute(&self, name: &str) -> Result<Option<String>> {
        let value = self.cmd("GET", &format!("/attribute/{name}"), None).await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// The DOM property's value (e.g. `value` of an input).
    pub async fn property(&self, name: &str) -> Result<Value> {
        self.cmd("GET", &format!("/property/{name}"), None).await
    }

    /// The first descendant matching the CSS selector.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let value = self
            .cmd(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        self.session.element(&value)
    }
}

/// Asks chromedriver to end every session and exit, without async: for
/// `Drop`, including while a panic unwinds. Best effort.
pub fn shutdown_blocking(driver: SocketAddr) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&driver, Duration::from_secs(2))
    else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /shutdown HTTP/1.1\r\nHost: {driver}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }
}
