//! The demo's GP Connect (the `demo` feature): a fake provider beside the service, its scenario
//! made from the demo's practices, and a verifier pointed at it with a certificate from a
//! throwaway CA. Test and demo code, out of the deployment image.

use std::time::Duration;

use caseledger_eventstore::EventStore;
use caseledger_gpconnect::GpConnectConfig;

use crate::verification::{SharedVerifier, SlotVerifier};

/// The 111 provider's ODS code in the demo (the fake's slots allow it).
pub const DEMO_PROVIDER_ODS: &str = "NHS111";

/// The demo's scenario for the fake provider, from the demo's practices: from a week before
/// `today` to two months after it, a practice with an open case offers its slots but not to the
/// 111 provider (not GP Connect bookable: the case study's commonest cause); of the others, every
/// seventh offers one slot a day fewer than it needs, the rest one more.
pub fn demo_scenario(
    practices: &[caseledger_projections::practice_view::PracticeSummary],
    today: chrono::NaiveDate,
) -> caseledger_gpconnect::fake::Scenario {
    use caseledger_gpconnect::fake::{
        Availability, LocationSpec, PracticeScenario, PractitionerSpec, Scenario, ScheduleSpec, SlotGenerator,
    };
    let practices = practices
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let row = &p.row;
            let required = u32::try_from(row.required_slots).unwrap_or(1).max(1);
            let (per_day, bookable) = match (p.open_case_id, i % 7) {
                (Some(_), _) => (required + 1, false),
                (None, 6) => (required - 1, true),
                (None, _) => (required + 1, true),
            };
            let mut locations = vec![LocationSpec {
                id: "main".into(),
                name: row.main_site.clone().unwrap_or_else(|| row.name.clone()),
            }];
            locations.extend(row.branch_sites.iter().enumerate().map(|(b, name)| LocationSpec {
                id: format!("branch-{}", b + 1),
                name: name.clone(),
            }));
            PracticeScenario {
                ods_code: row.ods_code.clone(),
                name: row.name.clone(),
                gp_connect_enabled: true,
                when_disabled: Default::default(),
                fail_first_requests: None,
                max_span_days: None,
                locations,
                practitioners: vec![PractitionerSpec {
                    id: "gp-1".into(),
                    family: "Duty".into(),
                    given: vec!["Doctor".into()],
                    prefix: vec!["Dr".into()],
                    sds_user_id: None,
                }],
                schedules: vec![ScheduleSpec {
                    id: "main-111".into(),
                    location: "main".into(),
                    practitioner: Some("gp-1".into()),
                    delivery_channel: "In-person".into(),
                    practitioner_role: "R0260".into(),
                    name: Some("111 direct booking".into()),
                    availability: None,
                }],
                slots: Vec::new(),
                system: Default::default(),
                sds: Default::default(),
                generate: (per_day > 0)
                    .then(|| SlotGenerator {
                        schedule: "main-111".into(),
                        from: today - chrono::Days::new(7),
                        to: today + chrono::Days::new(60),
                        per_day,
                        minutes: 15,
                        first_start: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
                        status: "free".into(),
                        slot_type: Some("111 direct booking".into()),
                        availability: Some(Availability {
                            gp_connect_bookable: bookable,
                            allowed_ods_codes: vec![DEMO_PROVIDER_ODS.into()],
                            allowed_org_types: vec!["urgent-care".into()],
                        }),
                    })
                    .into_iter()
                    .collect(),
            }
        })
        .collect();
    Scenario {
        now: None,
        drop_first_connections: 0,
        practices,
        sds_api_key: None,
        answer_delay_ms: 0,
    }
}

/// The verifier's configuration for the demo's fake provider, its endpoints found by `endpoints`
/// (the demo asks the fake's Spine Directory Service, the whole path a deployment takes).
pub fn demo_config(
    pki: &caseledger_gpconnect::pki::PkiFiles,
    endpoints: caseledger_gpconnect::EndpointConfig,
) -> GpConnectConfig {
    use caseledger_gpconnect::{DeviceIdentity, EndpointConfig, HttpSettings, PractitionerIdentity, TlsPaths};
    GpConnectConfig {
        provider_ods_code: DEMO_PROVIDER_ODS.into(),
        provider_name: "NHS 111 provider (demo)".into(),
        from_asid: "200000000111".into(),
        // From SDS when the endpoints are; else every practice's.
        to_asid: (!matches!(endpoints, EndpointConfig::Sds { .. })).then(|| "918999198993".into()),
        jwt_issuer: "https://caseledger.localhost/gpconnect".into(),
        endpoints,
        ssp_url: None,
        encode_parameter_names: false,
        tls: TlsPaths {
            client_cert_path: pki.client_cert.clone(),
            client_key_path: pki.client_key.clone(),
            ca_bundle_path: pki.ca.clone(),
        },
        practitioner: PractitionerIdentity {
            id: "caseledger".into(),
            family: "CaseLedger".into(),
            given: None,
            sds_user_id: "UNK".into(),
            sds_role_profile_id: "UNK".into(),
            local_user_system: "urn:caseledger:user-id".into(),
        },
        device: DeviceIdentity::default(),
        http: HttpSettings {
            connect_timeout_ms: 2_000,
            read_timeout_ms: 10_000,
            max_retries: 2,
            retry_base_delay_ms: 200,
            min_request_interval_ms: 50,
            ..HttpSettings::default()
        },
        bank_holidays_path: None,
    }
}

/// Starts the demo's fake provider (for the life of the process) on the practices the views hold
/// once they have caught up with the demo data, and returns a verifier pointed at it.
pub async fn gp_connect(store: &EventStore) -> Result<SharedVerifier, Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::env::temp_dir().join(format!("caseledger-demo-gpconnect-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pki = caseledger_gpconnect::pki::generate(&dir)?;
    let projections = caseledger_projections::Projections::start(store);
    let caught_up = caseledger_projections::wait_for_projections(store, Duration::from_secs(120)).await;
    projections.stop().await;
    caught_up?;
    let filter = caseledger_projections::practice_view::PracticeFilter::default();
    let practices = caseledger_projections::practice_view::page(store.pool(), &filter, None, 10_000).await?;
    let scenario = demo_scenario(&practices.rows, caseledger_clock::today());
    let tls = caseledger_gpconnect::fake::FakeTls::from_pem_files(&pki.server_cert, &pki.server_key, &pki.ca)?;
    let fake = caseledger_gpconnect::fake::serve_fake(scenario, tls, ([127, 0, 0, 1], 0).into()).await?;
    let config = demo_config(
        &pki,
        caseledger_gpconnect::EndpointConfig::Sds {
            url: fake.sds_url(),
            api_key: None,
            cache_seconds: 3_600,
        },
    );
    // The fake runs for the life of the demo process.
    std::mem::forget(fake);
    Ok(std::sync::Arc::new(SlotVerifier::new(config)?))
}
