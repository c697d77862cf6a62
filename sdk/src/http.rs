//! A small HTTP/1.1 client over `std::net` for desktop use, demos and tests:
//! plain `http://` only (a phone app brings its own TLS stack through the
//! [`Transport`] trait; a desktop deployment on a network would put TLS in
//! front). One request per connection, `Content-Length` bodies, timeouts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::sync::{HttpRequest, HttpResponse, Transport};

/// Largest response body read, bytes.
const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// HTTP over TCP, `http://` URLs.
#[derive(Clone, Copy, Debug)]
pub struct HttpTransport {
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Read and write timeout.
    pub io_timeout: Duration,
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(30),
        }
    }
}

fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| "this transport speaks plain http:// only".to_string())?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() {
        return Err("URL has no host".into());
    }
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    Ok((host, path.to_owned()))
}

impl Transport for HttpTransport {
    fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        let (host, path) = split_url(&req.url)?;
        let addr = host
            .to_socket_addrs()
            .map_err(|e| format!("resolving the server: {e}"))?
            .next()
            .ok_or("resolving the server: no address")?;
        let mut stream = TcpStream::connect_timeout(&addr, self.connect_timeout)
            .map_err(|e| format!("connecting: {e}"))?;
        stream
            .set_read_timeout(Some(self.io_timeout))
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(Some(self.io_timeout))
            .map_err(|e| e.to_string())?;
        let mut head = format!(
            "{} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
            req.method,
            req.body.len()
        );
        for (k, v) in &req.headers {
            if k.contains(['\r', '\n', ':']) || v.contains(['\r', '\n']) {
                return Err("header with a line break".into());
            }
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(&req.body))
            .map_err(|e| format!("sending: {e}"))?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("reading the status: {e}"))?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "malformed status line".to_string())?;
        let mut headers = Vec::new();
        let mut length: Option<usize> = None;
        loop {
            line.clear();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("reading headers: {e}"))?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().ok();
                }
                headers.push((k, v));
            }
        }
        let mut body = Vec::new();
        match length {
            Some(n) if n <= MAX_RESPONSE_BYTES => {
                body.resize(n, 0);
                reader
                    .read_exact(&mut body)
                    .map_err(|e| format!("reading the body: {e}"))?;
            }
            Some(_) => return Err("response body too large".into()),
            None => {
                reader
                    .take(MAX_RESPONSE_BYTES as u64)
                    .read_to_end(&mut body)
                    .map_err(|e| format!("reading the body: {e}"))?;
            }
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/v1/events").unwrap(),
            ("127.0.0.1:8080".into(), "/v1/events".into())
        );
        assert_eq!(
            split_url("http://localhost").unwrap(),
            ("localhost:80".into(), "/".into())
        );
        assert!(split_url("https://x").unwrap_err().contains("http://"));
        assert!(split_url("http:///x").is_err());
    }

    #[test]
    fn a_round_trip_with_a_real_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0;
            let mut line = String::new();
            loop {
                line.clear();
                r.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let reply = format!(
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            s.write_all(reply.as_bytes()).unwrap();
            s.write_all(&body).unwrap();
        });
        let r = HttpTransport::default()
            .send(HttpRequest {
                method: "POST".into(),
                url: format!("http://{addr}/v1/events"),
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"{\"echo\":1}".to_vec(),
            })
            .unwrap();
        server.join().unwrap();
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("3"));
        assert_eq!(r.body, b"{\"echo\":1}");
        let e = HttpTransport::default()
            .send(HttpRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:1/".into(),
                headers: vec![],
                body: vec![],
            })
            .unwrap_err();
        assert!(e.starts_with("connecting"), "{e}");
    }
}
