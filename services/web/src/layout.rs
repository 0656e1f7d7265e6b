//! The page shell in the NHS.UK design system's markup (header, skip link, width container,
//! footer), and the small pieces every page uses.

use caseledger_cases::CaseStatus;
use caseledger_cases::Role;
use maud::{DOCTYPE, Markup, html};

use super::session::Session;

/// Where each role starts, and the name of that page.
pub fn home_of(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Champion => ("/champion", "My caseload"),
        Role::Dhu => ("/dhu", "Visibility checks"),
        Role::Icb => ("/icb", "Assurance dashboard"),
        Role::Lmc => ("/lmc", "Oversight"),
        Role::Admin => ("/icb", "Assurance dashboard"),
        Role::Practice => ("/diversions", "Our diversions"),
        Role::PcnClinicalDirector => ("/diversions", "PCN diversions"),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Champion => "Digital Champion",
        Role::Dhu => "DHU liaison",
        Role::Icb => "ICB assurance",
        Role::Lmc => "LMC oversight",
        Role::Admin => "Operator",
        Role::Practice => "Practice manager",
        Role::PcnClinicalDirector => "PCN clinical director",
    }
}

/// A whole page. `live` marks pages whose main list refreshes when new events arrive.
/// The NHS logo, as the NHS.UK frontend's header draws it (its template's path).
const NHS_LOGO_PATH: &str = "M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z";

/// A page (its list refreshes itself when it holds a `data-live` region). When its body holds an error summary (a form came back), the title starts "Error:"
/// (a screen reader's first words) and the script moves focus to the summary.
pub fn page(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    let failed = body.0.contains("nhsuk-error-summary");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { @if failed { "Error: " } (title) " – CaseLedger – NHS" }
                link rel="icon" href="/assets/nhsuk/assets/images/favicon.ico" sizes="48x48";
                link rel="icon" href="/assets/nhsuk/assets/images/favicon.svg" sizes="any" type="image/svg+xml";
                link rel="apple-touch-icon" href="/assets/nhsuk/assets/images/nhsuk-icon-180.png";
                link rel="stylesheet" href="/assets/nhsuk/nhsuk-frontend.min.css";
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                a class="nhsuk-skip-link" href="#maincontent" { "Skip to main content" }
                header class="nhsuk-header" role="banner" {
                    div class="nhsuk-header__container nhsuk-width-container" {
                        div class="nhsuk-header__service" {
                            a class="nhsuk-header__service-logo" href="/" {
                                svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" aria-label="NHS" role="img" focusable="false" {
                                    title { "NHS" }
                                    path fill="currentcolor" d=(NHS_LOGO_PATH) {}
                                }
                                span class="nhsuk-header__service-name" { "CaseLedger" }
                            }
                        }
                        @if let Some(session) = session {
                            nav class="nhsuk-header__account" aria-label="Account" {
                                ul class="nhsuk-header__account-list" {
                                    li class="nhsuk-header__account-item" {
                                        span { (session.actor.id.as_str()) " (" (role_name(session.actor.role)) ")" }
                                    }
                                    li class="nhsuk-header__account-item" {
                                        form method="post" action="/sign-out" class="cl-inline" {
                                            (csrf_field(session))
                                            button class="nhsuk-header__account-button" type="submit" { "Sign out" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(session) = session {
                        nav class="nhsuk-header__navigation" aria-label="Menu" {
                            div class="nhsuk-header__navigation-container nhsuk-width-container" {
                                ul class="nhsuk-header__navigation-list" {
                                    @let (href, name) = home_of(session.actor.role);
                                    li class="nhsuk-header__navigation-item" {
                                        a class="nhsuk-header__navigation-link" href=(href) { (name) }
                                    }
                                    @if caseledger_cases::role::views::ICB.contains(&session.actor.role) {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href="/icb/cases" { "Cases" }
                                        }
                                    }
                                    @if session.actor.role.scoped_to().is_none() {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href="/diversions" { "Diversions" }
                                        }
                                    }
                                    @if session.actor.role.scoped_to().is_some() {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href="/our-cases" { "111 slot cases" }
                                        }
                                    }
                                    @if caseledger_cases::dos::READERS.contains(&session.actor.role) {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href="/dos" { "Directory of Services" }
                                        }
                                    }
                                    @if caseledger_cases::telephony::READERS.contains(&session.actor.role) {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href="/pcn-review" { "Telephony" }
                                        }
                                    }
                                    @if caseledger_cases::case::CommandName::VerifySlotVisibility.permits(session.actor.role) {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href="/gp-connect" { "GP Connect" }
                                        }
                                    }
                                    @if caseledger_cases::role::views::PEOPLE.contains(&session.actor.role) {
                                        li class="nhsuk-header__navigation-item" {
                                            a class="nhsuk-header__navigation-link" href="/admin/people" { "People" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div class="nhsuk-width-container" {
                    main class="nhsuk-main-wrapper" id="maincontent" role="main" {
                        (body)
                    }
                }
                footer class="nhsuk-footer" role="contentinfo" {
                    div class="nhsuk-width-container" {
                        h2 class="nhsuk-u-visually-hidden" { "Support links" }
                        div class="nhsuk-footer__meta" {
                            ul class="nhsuk-footer__list" {
                                li class="nhsuk-footer__list-item" { a class="nhsuk-footer__list-item-link" href="/accessibility" { "Accessibility statement" } }
                                li class="nhsuk-footer__list-item" { a class="nhsuk-footer__list-item-link" href="/privacy" { "Privacy notice" } }
                            }
                            p class="nhsuk-body-s" { "CaseLedger: NHS 111 direct booking slots, supported not sanctioned." }
                        }
                    }
                }
            }
        }
    }
}

/// The hidden field every form of a session carries.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="_csrf" value=(session.csrf); }
}

/// A status as an NHS tag.
pub fn status_tag(status: CaseStatus) -> Markup {
    let colour = match status {
        CaseStatus::Flagged => "nhsuk-tag--red",
        CaseStatus::Contacted => "nhsuk-tag--orange",
        CaseStatus::Remapped => "nhsuk-tag--yellow",
        CaseStatus::DhuConfirmed => "nhsuk-tag--aqua-green",
        CaseStatus::Compliant => "nhsuk-tag--green",
        CaseStatus::Closed => "nhsuk-tag--grey",
    };
    html! { strong class={"nhsuk-tag " (colour)} { (status_label(status)) } }
}

/// A status in words: "DHU confirmed".
pub fn status_label(status: CaseStatus) -> String {
    match status {
        CaseStatus::Flagged => "Flagged",
        CaseStatus::Contacted => "Contacted",
        CaseStatus::Remapped => "Remapped",
        CaseStatus::DhuConfirmed => "DHU confirmed",
        CaseStatus::Compliant => "Compliant",
        CaseStatus::Closed => "Closed",
    }
    .into()
}

/// The NHS error summary: a list of links to the fields at fault.
pub fn error_summary(title: &str, errors: &[(Option<String>, String)]) -> Markup {
    html! {
        div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" {
            h2 class="nhsuk-error-summary__title" id="error-summary-title" { (title) }
            div class="nhsuk-error-summary__body" {
                ul class="nhsuk-list nhsuk-error-summary__list" {
                    @for (anchor, message) in errors {
                        li {
                            @if let Some(anchor) = anchor {
                                a href={"#" (anchor)} { (message) }
                            } @else {
                                (message)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A plain message panel.
pub fn inset(text: Markup) -> Markup {
    html! { div class="nhsuk-inset-text" { span class="nhsuk-u-visually-hidden" { "Information: " } (text) } }
}
