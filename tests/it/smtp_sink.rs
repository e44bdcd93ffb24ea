//! A small SMTP server on loopback for the mail tests: enough of RFC 5321
//! for lettre (greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP,
//! QUIT), keeping every accepted message (envelope and raw data). It can be
//! told to refuse DATA with a temporary error, to test retries. Also reads
//! back what lettre encoded: folded headers, RFC 2047 words, quoted-printable
//! and base64 bodies.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use base64::Engine as _;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// One message the sink accepted.
#[derive(Clone, Debug)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub rcpt_to: Vec<String>,
    /// Headers and body as sent, dot-stuffing undone, lines joined by CRLF.
    pub data: String,
}

#[derive(Debug, Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    refuse_data: AtomicBool,
    refused: AtomicUsize,
}

/// The running sink; stops accepting when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let accept = tokio::spawn({
            let shared = Arc::clone(&shared);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(session(stream, Arc::clone(&shared)));
                }
            }
        });
        Self {
            addr,
            shared,
            accept,
        }
    }

    /// An `smtp_url` for this sink (plain SMTP, no login).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The same with a login in it, which the sink does not offer.
    pub fn url_with_login(&self, user: &str, password: &str) -> String {
        format!("smtp://{user}:{password}@{}", self.addr)
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Removes and returns the messages accepted so far.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.shared.messages.lock().unwrap())
    }

    /// While on, DATA is answered `451` (try again later).
    pub fn refuse_data(&self, refuse: bool) {
        self.shared.refuse_data.store(refuse, Ordering::SeqCst);
    }

    /// How many DATA commands were refused.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Reads one line without its CRLF; `None` at end of stream.
async fn read_line(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<String> {
    let mut buf = Vec::new();
    let n = reader.read_until(b'\n', &mut buf).await.ok()?;
    if n == 0 {
        return None;
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// The address inside `<…>` of a MAIL FROM or RCPT TO argument.
fn path_of(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_owned()
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    if write
        .write_all(b"220 sink.test ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    while let Some(line) = read_line(&mut reader).await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                mail_from = Some(path_of(&line));
                rcpt_to.clear();
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if mail_from.is_some() => {
                rcpt_to.push(path_of(&line));
                b"250 2.1.5 OK\r\n"
            }
            "DATA" if mail_from.is_some() && !rcpt_to.is_empty() => {
                if shared.refuse_data.load(Ordering::SeqCst) {
                    shared.refused.fetch_add(1, Ordering::SeqCst);
                    mail_from = None;
                    rcpt_to.clear();
                    b"451 4.3.0 Try again later\r\n"
                } else {
                    if write
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let mut lines = Vec::new();
                    loop {
                        let Some(data_line) = read_line(&mut reader).await else {
                            return;
                        };
                        if data_line == "." {
                            break;
                        }
                        let unstuffed = data_line.strip_prefix('.').unwrap_or(&data_line);
                        lines.push(unstuffed.to_owned());
                    }
                    shared.messages.lock().unwrap().push(Received {
                        mail_from: mail_from.take().unwrap_or_default(),
                        rcpt_to: std::mem::take(&mut rcpt_to),
                        data: lines.join("\r\n"),
                    });
                    b"250 2.0.0 OK queued\r\n"
                }
            }
            "RCPT" | "DATA" => b"503 5.5.1 Bad sequence of commands\r\n",
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => b"500 5.5.2 Command not recognized\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

impl Received {
    fn split(&self) -> (&str, &str) {
        self.data
            .split_once("\r\n\r\n")
            .unwrap_or((self.data.as_str(), ""))
    }

    /// A header's value, unfolded and with RFC 2047 words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", "\t");
        unfolded.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| decode_words(value.trim()))
        })
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The body, decoded from its transfer encoding.
    pub fn body(&self) -> String {
        let (_, body) = self.split();
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        match encoding.as_str() {
            "quoted-printable" => decode_quoted_printable(body),
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap();
                String::from_utf8(bytes).unwrap()
            }
            _ => body.to_owned(),
        }
    }
}

/// Decodes RFC 2047 `=?charset?B|Q?…?=` words; white space between two
/// encoded words is dropped, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        if !(after_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let (encoding, text) = (parts[1], &parts[2][..end]);
        let bytes = if encoding.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap()
        } else {
            decode_quoted_printable(&text.replace('_', " ")).into_bytes()
        };
        out.push_str(&String::from_utf8(bytes).unwrap());
        let consumed = parts[0].len() + parts[1].len() + 2 + end + 2;
        rest = &word[consumed..];
        after_word = true;
    }
    out.push_str(rest);
    out
}

/// Quoted-printable: `=XX` bytes and `=` soft line breaks.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn encoded_headers_and_bodies_are_read_back() {
    assert_eq!(
        decode_words("=?utf-8?b?WyMxXSBFcnJv?= =?utf-8?b?IG5hIGVtaXNzw6Nv?="),
        "[#1] Erro na emissão"
    );
    assert_eq!(decode_words("plain text"), "plain text");
    assert_eq!(decode_words("a =?utf-8?q?caf=C3=A9?= b"), "a café b");
    assert_eq!(
        decode_quoted_printable("emiss=C3=A3o de =\r\nnota"),
        "emissão de nota"
    );
}
