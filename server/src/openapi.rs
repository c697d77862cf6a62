//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the types' `ToSchema` derives (served at
//! `/v1/openapi.json`; a copy is committed as `docs/openapi.json` and a test
//! fails when the two differ).

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::api;

/// The document's description of the credentials.
#[derive(Debug)]
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        let scheme = |what: &str| {
            let mut h = Http::new(HttpAuthScheme::Bearer);
            h.description = Some(what.to_owned());
            SecurityScheme::Http(h)
        };
        c.add_security_scheme(
            "operator",
            scheme("The operator token (`safelane serve --operator-token`)"),
        );
        c.add_security_scheme(
            "fleet_admin",
            scheme("A fleet admin token, from POST /v1/fleets"),
        );
        c.add_security_scheme(
            "device",
            scheme("`<device id>.<device secret>`, from POST .../devices"),
        );
    }
}

/// The server's API.
#[derive(OpenApi, Debug)]
#[openapi(
    info(
        title = "safelane server",
        description = "Event ingestion from the safelane SDK, daily and weekly driving safety reports, the safe-driving score, fleet overviews, map tiles."
    ),
    paths(
        api::healthz,
        api::metrics,
        api::openapi_json,
        api::create_fleet,
        api::create_driver,
        api::list_drivers,
        api::create_device,
        api::ingest,
        crate::pings::ingest_pings,
        crate::pings::export_pings,
        api::tile,
        api::driver_day,
        api::driver_week,
        api::driver_week_page,
        api::fleet_week,
        api::asset,
    ),
    modifiers(&Credentials),
    tags(
        (name = "fleets", description = "Fleets, drivers and device credentials"),
        (name = "ingestion", description = "What phones send and fetch"),
        (name = "reports", description = "Driver reports, the score and the fleet overview"),
        (name = "operations", description = "Health, metrics, this document, page assets"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, generated on first use.
pub fn json() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}
