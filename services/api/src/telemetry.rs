//! Logs and traces: structured JSON logs on standard error (or readable text at a terminal), and,
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the same
//! spans exported as OpenTelemetry traces over OTLP/HTTP (protobuf).

use std::io::{IsTerminal, Read};
use std::time::Duration;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::WithHttpConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const LOG_FORMAT_VAR: &str = "CASELEDGER_LOG_FORMAT";
const OTLP_VARS: [&str; 2] = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];

/// What was set up; [`Telemetry::shutdown`] sends the spans still buffered.
#[derive(Debug)]
pub struct Telemetry {
    tracer: Option<SdkTracerProvider>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogFormat {
    Json,
    Text,
}

fn log_format() -> anyhow::Result<LogFormat> {
    match std::env::var(LOG_FORMAT_VAR).ok().filter(|v| !v.is_empty()).as_deref() {
        Some("json") => Ok(LogFormat::Json),
        Some("text") => Ok(LogFormat::Text),
        Some(other) => anyhow::bail!("{LOG_FORMAT_VAR}={other:?}: expected json or text"),
        None if std::io::stderr().is_terminal() => Ok(LogFormat::Text),
        None => Ok(LogFormat::Json),
    }
}

/// Installs the global subscriber: `RUST_LOG`'s filter (default `info`), the log format of
/// `CASELEDGER_LOG_FORMAT` (default JSON, text at a terminal), and the OTLP exporter if asked for.
pub fn init() -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let format = log_format()?;
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
    });
    let text = (format == LogFormat::Text).then(|| {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
    });
    let tracer = otlp_tracer()?;
    let otel = tracer
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("caseledger")));
    tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .with(text)
        .with(otel)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(Telemetry { tracer })
}

impl Telemetry {
    /// Exports what is still buffered (at most a few seconds) and stops the exporter.
    pub async fn shutdown(self) {
        if let Some(provider) = self.tracer {
            let flushed =
                tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(Duration::from_secs(5))).await;
            if let Ok(Err(error)) = flushed {
                eprintln!("could not export the last traces: {error}");
            }
        }
    }
}

fn otlp_tracer() -> anyhow::Result<Option<SdkTracerProvider>> {
    if !OTLP_VARS
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()))
    {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(UreqClient::new())
        .build()
        .context("configuring the OTLP exporter (OTEL_EXPORTER_OTLP_ENDPOINT)")?;
    let resource = Resource::builder().with_service_name("caseledger").build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    ))
}

/// The OTLP exporter's HTTP client: the blocking `ureq` the service already uses for OIDC. The
/// batch exporter calls it from a thread of its own, never from the async runtime.
#[derive(Debug)]
struct UreqClient {
    agent: ureq::Agent,
}

/// A collector's answer is a short status; anything longer is cut here.
const MAX_RESPONSE: u64 = 1024 * 1024;

impl UreqClient {
    fn new() -> Self {
        Self {
            agent: ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build(),
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for UreqClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut call = self.agent.request(parts.method.as_str(), &parts.uri.to_string());
        for (name, value) in &parts.headers {
            call = call.set(name.as_str(), value.to_str()?);
        }
        let response = match call.send_bytes(&body) {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => return Err(Box::new(error)),
        };
        let status = response.status();
        let mut bytes = Vec::new();
        response.into_reader().take(MAX_RESPONSE).read_to_end(&mut bytes)?;
        Ok(Response::builder().status(status).body(Bytes::from(bytes))?)
    }
}
