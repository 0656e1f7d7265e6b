//! Logs and traces: structured JSON logs on standard error (or readable text at a terminal), and,
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the same
//! spans exported as OpenTelemetry traces over OTLP/HTTP (protobuf) by a build with the `otel`
//! feature (the deployment image's); a build without it says so at start and exports nothing.

use std::io::IsTerminal;

use anyhow::Context;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::Logging;

/// What was set up; [`Telemetry::shutdown`] sends the spans still buffered.
#[derive(Debug)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    tracer: Option<otlp::SdkTracerProvider>,
}

/// Installs the global subscriber: `RUST_LOG`'s filter (default `info`), the log format of
/// `CASELEDGER_LOG_FORMAT` (default JSON, text at a terminal), and the OTLP exporter if asked for.
pub fn init(logging: Logging) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = logging.json.unwrap_or(!std::io::stderr().is_terminal());
    let text = (!json).then(|| {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
    });
    let json = json.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
    });
    let registry = tracing_subscriber::registry().with(filter).with(json).with(text);
    #[cfg(feature = "otel")]
    {
        let tracer = logging.otlp.then(otlp::tracer).transpose()?;
        registry
            .with(otlp::layer(tracer.as_ref()))
            .try_init()
            .context("installing the log subscriber")?;
        Ok(Telemetry { tracer })
    }
    #[cfg(not(feature = "otel"))]
    {
        registry.try_init().context("installing the log subscriber")?;
        if logging.otlp {
            tracing::warn!(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build exports no traces: build with `--features otel`"
            );
        }
        Ok(Telemetry {})
    }
}

impl Telemetry {
    /// Exports what is still buffered (at most a few seconds) and stops the exporter.
    pub async fn shutdown(self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.tracer {
            let flushed =
                tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(std::time::Duration::from_secs(5)))
                    .await;
            if let Ok(Err(error)) = flushed {
                eprintln!("could not export the last traces: {error}");
            }
        }
    }
}

/// The OTLP exporter (the `otel` feature).
#[cfg(feature = "otel")]
mod otlp {
    use std::io::Read;

    use anyhow::Context;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
    use opentelemetry_otlp::WithHttpConfig;
    use opentelemetry_sdk::Resource;
    pub(super) use opentelemetry_sdk::trace::SdkTracerProvider;

    /// The tracing layer that hands spans to `provider`, if there is one.
    pub(super) fn layer<S>(provider: Option<&SdkTracerProvider>) -> Option<impl tracing_subscriber::Layer<S>>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        provider.map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("caseledger")))
    }

    pub(super) fn tracer() -> anyhow::Result<SdkTracerProvider> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(UreqClient::new())
            .build()
            .context("configuring the OTLP exporter (OTEL_EXPORTER_OTLP_ENDPOINT)")?;
        let resource = Resource::builder().with_service_name("caseledger").build();
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build())
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
                agent: ureq::AgentBuilder::new()
                    .timeout(std::time::Duration::from_secs(10))
                    .build(),
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
}
