//! The demo's story as work in progress, the same picture whatever the day it runs: the case
//! study cut at a fixed point of its fourth week, then moved by whole weeks so that its last
//! moment is within the week before now (every date keeps its weekday, so working days stay
//! working days). At the cut, eleven cases wait for a remap (late), five were remapped on the
//! Friday and twelve are compliant. On top of that, now: the DHU confirms one remapped case (it
//! waits for the ICB) and sees one slot a day too few on another (a shortfall), three stay with
//! the DHU, the DHU files a report on a practice without a case for the ICB to triage, and the
//! ICB flags a practice by hand.

use caseledger_cases::case::RootCause;
use caseledger_cases::values::{FreeText, OdsCode, ShortText, SlotCount, ValueError};
use caseledger_cases::{Action, Actor, CaseError, Role};
use caseledger_commands::{CommandContext, CommandError, Commands};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

/// Where the story is cut: after the champions' remaps of Friday 30 January 2026 (week 0 is
/// Monday 5 January), before the DHU looks at them on the Sunday. Nothing after it is loaded.
pub const STORY_CUT: &str = "2026-01-31T00:00:00Z";

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// A dashboard row's report date as an instant (the start of its day).
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The whole weeks (negative before the story) that move `latest` to the latest moment on or
/// before `now` that falls on the same weekday and time.
fn shift(latest: DateTime<Utc>, now: DateTime<Utc>) -> TimeDelta {
    let week = TimeDelta::weeks(1).num_seconds();
    TimeDelta::weeks(now.signed_duration_since(latest).num_seconds().div_euclid(week))
}

/// The story's files (the case study's) up to `STORY_CUT`, moved by whole weeks so that the last
/// thing in them happened within the week before `now`. What is loaded never depends on the day:
/// only the dates move.
pub fn in_progress(files: &[(&str, &str)], now: DateTime<Utc>) -> Vec<(String, String)> {
    let cut = instant(STORY_CUT).unwrap_or(now);
    // The dashboards reported before the cut, and the interventions recorded before it.
    let dashboards: Vec<(&str, &str)> = files
        .iter()
        .filter(|(name, text)| {
            name.starts_with("dashboard-")
                && text
                    .lines()
                    .skip(1)
                    .filter(|line| !line.trim().is_empty())
                    .all(|line| date(line.split(',').next().unwrap_or_default()).is_some_and(|d| start_of(d) < cut))
        })
        .copied()
        .collect();
    let interventions: Vec<(DateTime<Utc>, serde_json::Value)> = files
        .iter()
        .filter(|(name, _)| *name == "interventions.jsonl")
        .flat_map(|(_, text)| text.lines())
        .filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            let at = instant(value["at"].as_str()?)?;
            (at < cut).then_some((at, value))
        })
        .collect();
    let latest = dashboards
        .iter()
        .flat_map(|(_, text)| text.lines().skip(1))
        .filter_map(|line| date(line.split(',').next().unwrap_or_default()).map(start_of))
        .chain(interventions.iter().map(|(at, _)| *at))
        .max()
        .unwrap_or(cut);
    let by = shift(latest, now);
    let mut out = Vec::new();
    for (name, text) in files {
        if name.starts_with("dashboard-") {
            if !dashboards.iter().any(|(kept, _)| kept == name) {
                continue;
            }
            let mut lines = text.lines();
            let mut moved = vec![lines.next().unwrap_or_default().to_string()];
            for line in lines.filter(|line| !line.trim().is_empty()) {
                let (day, rest) = line.split_once(',').unwrap_or((line, ""));
                if let Some(day) = date(day).and_then(|d| d.checked_add_signed(by)) {
                    moved.push(format!("{day},{rest}"));
                }
            }
            out.push((name.to_string(), moved.join("\n") + "\n"));
        } else if *name == "interventions.jsonl" {
            let kept: Vec<String> = interventions
                .iter()
                .filter_map(|(at, value)| {
                    let mut value = value.clone();
                    value["at"] = serde_json::Value::String(at.checked_add_signed(by)?.to_rfc3339());
                    Some(value.to_string())
                })
                .collect();
            out.push((name.to_string(), kept.join("\n") + "\n"));
        } else if *name == "gp-reg-pat-prac-all.csv" {
            // The list sizes' extract: moved with the story, on the first of its month (as NHS
            // England dates them), so it still comes before the first dashboard.
            let mut lines = text.lines();
            let mut moved = vec![lines.next().unwrap_or_default().to_string()];
            for line in lines.filter(|line| !line.trim().is_empty()) {
                let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
                if let Some(extract) = fields.get_mut(1)
                    && let Some(day) = date(extract)
                        .and_then(|d| d.checked_add_signed(by))
                        .and_then(|d| d.with_day(1))
                {
                    *extract = day.to_string();
                }
                moved.push(fields.join(","));
            }
            out.push((name.to_string(), moved.join("\n") + "\n"));
        } else {
            out.push((name.to_string(), text.to_string()));
        }
    }
    out
}

/// This week's work on top of the story, at `now`: the DHU confirms Mill Health Centre (remapped
/// on the Friday; it then waits for the ICB's decision) and sees one slot a day fewer than Fern
/// Surgery needs (a shortfall for its champion to act on); files a report on a practice with no
/// case for the ICB to triage; and the ICB flags a practice by hand.
pub async fn this_week(commands: &Commands, now: DateTime<Utc>) -> Result<(), CommandError> {
    let invalid = |field: &'static str| {
        move |source: ValueError| CommandError::Rejected(CaseError::InvalidValue { field, source })
    };
    let dhu = Actor::new(ShortText::parse("dhu-liaison-1").map_err(invalid("actor"))?, Role::Dhu);
    for (ods, short) in [("Z00012", 0), ("Z00044", 1)] {
        let Some(case_id) = commands.latest_case_of(ods).await? else {
            continue;
        };
        let loaded = caseledger_commands::load(commands.store(), case_id, false).await?;
        let seen = (i64::from(loaded.case.required_slots) - short).max(0);
        let seen = SlotCount::new(seen).map_err(invalid("visibleSlotsPerDay"))?;
        commands
            .execute(
                case_id,
                &CommandContext::new(dhu.clone()).with_command_id(format!("demo-dhu-{ods}")),
                Action::ConfirmDhuVisibility {
                    visible_slots_per_day: seen,
                },
                now,
            )
            .await?;
    }
    // A practice the story never flags (Arden Health Centre meets its requirement throughout).
    let quiet = OdsCode::parse("Z00011").map_err(invalid("odsCode"))?;
    if commands.latest_case_of(quiet.as_str()).await?.is_none() {
        let detail = FreeText::parse("Its extended-hours slots are not bookable by 111 this week.")
            .map_err(invalid("detail"))?;
        commands
            .report_visibility(
                &CommandContext::new(dhu).with_command_id("demo-dhu-report"),
                &quiet,
                RootCause::SlotTypeNotExternal,
                Some(detail),
                now,
            )
            .await?;
    }
    // A practice the ICB hears about from its PCN, flagged by hand today.
    let flagged = OdsCode::parse("Z00013").map_err(invalid("odsCode"))?;
    if commands.latest_case_of(flagged.as_str()).await?.is_none() {
        let icb = Actor::new(
            ShortText::parse("icb-assurance-1").map_err(invalid("actor"))?,
            Role::Icb,
        );
        let action = Action::FlagPractice {
            practice: caseledger_cases::practice::PracticeDetails {
                ods_code: flagged,
                name: ShortText::parse("Orchard Medical Practice").map_err(invalid("practiceName"))?,
                pcn_code: caseledger_cases::values::PcnCode::parse("U10001").map_err(invalid("pcnCode"))?,
                pcn_name: Some(ShortText::parse("Coventry South PCN 1").map_err(invalid("pcnName"))?),
                place: ShortText::parse("Coventry").map_err(invalid("place"))?,
            },
            list_size: caseledger_cases::values::ListSize::new(6_921).map_err(invalid("listSize"))?,
            visible_slots: SlotCount::new(0).map_err(invalid("visibleSlots"))?,
            source: caseledger_cases::case::FlagSource {
                kind: caseledger_cases::case::FlagSourceKind::Manual,
                report_date: None,
                report_id: None,
            },
            reason: Some(
                FreeText::parse("The PCN says its 111 slots stopped showing after a template change.")
                    .map_err(invalid("reason"))?,
            ),
        };
        let flagged = commands
            .flag_practice(&CommandContext::new(icb).with_command_id("demo-flag"), action, now)
            .await?;
        // Its manager answers at once, before a champion rings: the ICB and the champion who
        // takes the case read it; the PCN sees that the practice answered.
        let manager = Actor::scoped(
            ShortText::parse("pm-z00013").map_err(invalid("actor"))?,
            Role::Practice,
            Some(caseledger_cases::role::Scope::Practice(
                OdsCode::parse("Z00013").map_err(invalid("odsCode"))?,
            )),
        );
        let answer = FreeText::parse(
            "We changed our appointment templates last month. Our system supplier's helpdesk reference is in \
             our log; the practice manager is in on Tuesdays and Thursdays.",
        )
        .map_err(invalid("text"))?;
        commands
            .answer_champion(
                &CommandContext::new(manager).with_command_id("demo-answer"),
                flagged.case_id,
                answer,
                now,
            )
            .await?;
    }
    diversions(commands, now).await?;
    core_hours_calls(commands, now).await?;
    telephony(commands, now).await?;
    dos_gaps(commands, now).await
}

/// Three gaps in the Directory of Services the 111 provider found: district nursing missing at
/// 17:45 on the latest working day (a DoS case, waiting for the provider: red), a pharmacy's old
/// telephone number one evening (waiting for triage: amber), and Arden Health Centre's phlebotomy
/// days a week ago (updated by the practice and confirmed: green).
async fn dos_gaps(commands: &Commands, now: DateTime<Utc>) -> Result<(), CommandError> {
    use caseledger_cases::dos::{DosAction, DosGapKind, DosGapReported, DosTriage};
    let invalid = |field| move |source| CommandError::Rejected(CaseError::InvalidValue { field, source });
    let named = |id: &str, role: Role, org: Option<&str>| -> Result<Actor, CommandError> {
        let scope = match org {
            Some(code) => caseledger_cases::role::Scope::for_role(role, code).map_err(invalid("org"))?,
            None => None,
        };
        Ok(Actor::scoped(
            ShortText::parse(id).map_err(invalid("actor"))?,
            role,
            scope,
        ))
    };
    let dhu = named("dhu-liaison-1", Role::Dhu, None)?;
    let icb = named("icb-assurance-1", Role::Icb, None)?;
    let manager = named("pm-z00011", Role::Practice, Some("Z00011"))?;
    let calendar = caseledger_cases::holidays::BankHolidays::england_and_wales();
    let today = caseledger_cases::ukclock::to_uk(now).date_naive();
    let mut day = today.pred_opt().unwrap_or(today);
    while !calendar.is_core_day(day) {
        day = day.pred_opt().unwrap_or(day);
    }
    let at = |day: NaiveDate, hour: u32, minute: u32| {
        let time = chrono::NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
        caseledger_cases::ukclock::from_local(day.and_time(time)).with_timezone(&Utc)
    };
    let gaps = [
        (
            "demo-dos-nursing",
            "2000012345",
            "Coventry South district nursing",
            DosGapKind::Hours,
            at(day, 17, 45),
            None,
            "No district nurse listed between 17:30 and 19:00 for a catheter problem.",
        ),
        (
            "demo-dos-pharmacy",
            "2000023456",
            "Earlsdon community pharmacy",
            DosGapKind::WrongDetails,
            at(day, 20, 15),
            None,
            "The entry's telephone number is no longer in use.",
        ),
        (
            "demo-dos-arden",
            "2000067890",
            "Arden Health Centre",
            DosGapKind::SkillOrCapacity,
            at(day - TimeDelta::days(7), 10, 30),
            Some("Z00011"),
            "Phlebotomy listed on Fridays; the practice has none then.",
        ),
    ];
    let mut ids = Vec::new();
    for (command_id, service, name, kind, bit_at, ods, detail) in gaps {
        let context = CommandContext::new(dhu.clone()).with_command_id(command_id);
        let gap = DosGapReported {
            gap_id: Commands::dos_gap_id(&context),
            service_id: caseledger_cases::values::DosServiceId::parse(service).map_err(invalid("serviceId"))?,
            service_name: ShortText::parse(name).map_err(invalid("serviceName"))?,
            kind,
            bit_at,
            ods_code: ods.map(OdsCode::parse).transpose().map_err(invalid("odsCode"))?,
            detail: Some(FreeText::parse(detail).map_err(invalid("detail"))?),
        };
        let service = gap.service_id.clone();
        let outcome = commands.report_dos_gap(&context, gap, now).await?;
        ids.push((outcome.gap_id, service));
    }
    let step = |who: &Actor, command_id: &str| CommandContext::new(who.clone()).with_command_id(command_id);
    let [(nursing, nursing_service), _, (arden, arden_service)] = &ids[..] else {
        return Ok(());
    };
    let open = |gap_id| DosAction::Triage {
        gap_id,
        outcome: DosTriage::CaseOpened,
        reason: None,
    };
    commands
        .act_on_dos_gap(
            &step(&icb, "demo-dos-nursing-open"),
            nursing_service,
            open(*nursing),
            now,
        )
        .await?;
    commands
        .act_on_dos_gap(&step(&icb, "demo-dos-arden-open"), arden_service, open(*arden), now)
        .await?;
    let summary =
        FreeText::parse("Phlebotomy moved to Tuesdays and Thursdays on the entry.").map_err(invalid("summary"))?;
    let update = DosAction::Update {
        gap_id: *arden,
        summary: Some(summary),
    };
    commands
        .act_on_dos_gap(&step(&manager, "demo-dos-arden-update"), arden_service, update, now)
        .await?;
    commands
        .act_on_dos_gap(
            &step(&dhu, "demo-dos-arden-confirm"),
            arden_service,
            DosAction::Confirm { gap_id: *arden },
            now,
        )
        .await?;
    Ok(())
}

/// The seven practices of Coventry South PCN 1, the last six months of their telephony, uploaded
/// by the PCN's clinical director: Mill Health Centre (which diverts) keeps callers waiting and
/// loses more of them; the PCN noted what it agreed last month.
async fn telephony(commands: &Commands, now: DateTime<Utc>) -> Result<(), CommandError> {
    const PRACTICES: [(&str, u32); 7] = [
        ("Z00011", 14_646),
        ("Z00012", 5_121),
        ("Z00013", 6_921),
        ("Z00014", 12_366),
        ("Z00015", 7_160),
        ("Z00016", 14_246),
        ("Z00017", 9_313),
    ];
    let invalid = |field| move |source| CommandError::Rejected(CaseError::InvalidValue { field, source });
    let pcn = caseledger_cases::values::PcnCode::parse("U10001").map_err(invalid("pcnCode"))?;
    let director = Actor::scoped(
        ShortText::parse("cd-u10001").map_err(invalid("actor"))?,
        Role::PcnClinicalDirector,
        Some(caseledger_cases::role::Scope::Pcn(pcn.clone())),
    );
    let this_month = caseledger_cases::telephony::first_of_month(caseledger_cases::ukclock::to_uk(now).date_naive());
    let mut csv = String::from(
        "month,ods_code,inbound_calls,average_wait_seconds,abandonment_rate,average_call_seconds,callbacks\n",
    );
    for back in 1..=6u32 {
        let Some(month) = this_month.checked_sub_months(chrono::Months::new(back)) else {
            continue;
        };
        for (n, (ods, list_size)) in PRACTICES.iter().enumerate() {
            let mill = *ods == "Z00012";
            // A little month-to-month wobble, the same every run.
            let wobble = (back * 11 + u32::try_from(n).unwrap_or(0) * 7) % 9;
            let calls = list_size / 4 + wobble * 13;
            let (wait, abandoned) = if mill {
                (410 + wobble * 20, format!("18.{wobble}"))
            } else {
                (70 + wobble * 6, format!("4.{wobble}"))
            };
            let length = 160 + wobble * 4;
            let callbacks = if mill { 0 } else { calls / 30 };
            csv.push_str(&format!(
                "{},{ods},{calls},{wait},{abandoned},{length},{callbacks}\n",
                month.format("%Y-%m")
            ));
        }
    }
    let report = commands.import_telephony_metrics(&director, &csv, now).await?;
    if report.error_count > 0 {
        tracing::warn!(errors = ?report.errors, "the demo's telephony was refused");
    }
    if let Some(last_month) = this_month.checked_sub_months(chrono::Months::new(1)) {
        let note = FreeText::parse(
            "Agreed: Mill to add a second line and a callback queue before winter; we compare waits and \
             abandonment again at next month's meeting.",
        )
        .map_err(invalid("note"))?;
        commands
            .record_pcn_review_note(
                &CommandContext::new(director).with_command_id("demo-pcn-note"),
                &pcn,
                last_month,
                note,
                now,
            )
            .await?;
    }
    Ok(())
}

/// The 111 provider's weekly core-hours calls for the seven practices of Coventry South PCN 1, the
/// last eight weeks: about 2 calls per 1,000 patients a week, and Mill Health Centre (which
/// diverts) about three times that.
async fn core_hours_calls(commands: &Commands, now: DateTime<Utc>) -> Result<(), CommandError> {
    const PRACTICES: [(&str, u32); 7] = [
        ("Z00011", 14_646),
        ("Z00012", 5_121),
        ("Z00013", 6_921),
        ("Z00014", 12_366),
        ("Z00015", 7_160),
        ("Z00016", 14_246),
        ("Z00017", 9_313),
    ];
    let today = caseledger_cases::ukclock::to_uk(now).date_naive();
    let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
    let mut csv = String::from("week_start,ods_code,calls\n");
    for week in 1..=8u32 {
        let start = monday - TimeDelta::weeks(i64::from(week));
        for (n, (ods, list_size)) in PRACTICES.iter().enumerate() {
            let per_thousand = if *ods == "Z00012" { 6 } else { 2 };
            // A little week-to-week wobble, the same every run.
            let wobble = (week * 7 + u32::try_from(n).unwrap_or(0) * 3) % 5;
            let calls = list_size / 1000 * per_thousand + wobble;
            csv.push_str(&format!("{start},{ods},{calls}\n"));
        }
    }
    let dhu = Actor::new(
        ShortText::parse("dhu-liaison-1")
            .map_err(|source| CommandError::Rejected(CaseError::InvalidValue { field: "actor", source }))?,
        Role::Dhu,
    );
    let report = commands.import_core_hours_calls(&dhu, &csv, now).await?;
    if report.error_count > 0 {
        tracing::warn!(errors = ?report.errors, "the demo's core-hours calls were refused");
    }
    Ok(())
}

/// This fortnight's diversions to NHS 111. Arden Health Centre's phone lines failed on three
/// mornings, the last on the latest working day (told a quarter of an hour late each time; the
/// ICB acknowledged the first two): the third passed the review threshold, so a diversion review
/// opened, and its champion rang the practice. Mill Health Centre rang the ICB an hour and a half
/// ago: short of staff, it diverts for the afternoon (running, waiting for acknowledgement).
async fn diversions(commands: &Commands, now: DateTime<Utc>) -> Result<(), CommandError> {
    use caseledger_cases::case::{DiversionReason, DiversionSupportKind};
    use caseledger_commands::DiversionNotice;
    let invalid = |field: &'static str| {
        move |source: ValueError| CommandError::Rejected(CaseError::InvalidValue { field, source })
    };
    let actor = |id: &str, role: Role, org: Option<&str>| -> Result<Actor, CommandError> {
        let scope = match org {
            Some(code) => caseledger_cases::role::Scope::for_role(role, code).map_err(invalid("org"))?,
            None => None,
        };
        Ok(Actor::scoped(
            ShortText::parse(id).map_err(invalid("actor"))?,
            role,
            scope,
        ))
    };
    let manager = actor("pm-z00011", Role::Practice, Some("Z00011"))?;
    let icb = actor("icb-assurance-1", Role::Icb, None)?;
    let champion = actor("dc-amira", Role::Champion, None)?;
    // The latest three working days before today, oldest first, a few days apart.
    let calendar = caseledger_cases::holidays::BankHolidays::england_and_wales();
    let mut days = Vec::new();
    let mut day = caseledger_cases::ukclock::to_uk(now).date_naive();
    while days.len() < 3 {
        day = day.pred_opt().unwrap_or(day);
        if calendar.is_core_day(day) && days.last().is_none_or(|last: &NaiveDate| (*last - day).num_days() >= 3) {
            days.push(day);
        }
    }
    days.reverse();
    let arden = OdsCode::parse("Z00011").map_err(invalid("odsCode"))?;
    let words = FreeText::parse("The phone lines went down at opening; the telephony supplier is on site.")
        .map_err(invalid("detail"))?;
    let mut review = None;
    for (n, day) in days.iter().enumerate() {
        let at = |hour: u32, minute: u32| {
            let local = day.and_time(chrono::NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default());
            caseledger_cases::ukclock::from_local(local).with_timezone(&Utc)
        };
        let notice = DiversionNotice {
            from: at(8, 5),
            expected_until: at(12, 0),
            reason: DiversionReason::TelephonyFailure,
            detail: Some(words.clone()),
        };
        let told = CommandContext::new(manager.clone())
            .with_command_id(format!("demo-diversion-arden-{n}"))
            .at(at(8, 20));
        let notified = commands.notify_diversion(&told, &arden, notice, now).await?;
        let ended = CommandContext::new(manager.clone())
            .with_command_id(format!("demo-diversion-arden-{n}-end"))
            .at(at(10, 45));
        let ended = match commands
            .end_diversion(&ended, &arden, notified.subject_id, at(10, 40), now)
            .await
        {
            Ok(outcome) => outcome.review_opened,
            Err(CommandError::Rejected(CaseError::DiversionAlreadyEnded(_))) => None,
            Err(error) => return Err(error),
        };
        review = review.or(notified.review_opened).or(ended);
        if n + 1 < days.len() {
            let acknowledged = CommandContext::new(icb.clone())
                .with_command_id(format!("demo-diversion-arden-{n}-ack"))
                .at(at(11, 0));
            match commands
                .acknowledge_diversion(&acknowledged, &arden, notified.subject_id, now)
                .await
            {
                Ok(_) | Err(CommandError::Rejected(CaseError::DiversionAlreadyAcknowledged(_))) => {}
                Err(error) => return Err(error),
            }
        }
    }
    if let (Some(review_id), Some(last)) = (review, days.last()) {
        let local = last.and_time(chrono::NaiveTime::from_hms_opt(14, 0, 0).unwrap_or_default());
        let rang = CommandContext::new(champion)
            .with_command_id("demo-diversion-review-call")
            .at(caseledger_cases::ukclock::from_local(local).with_timezone(&Utc));
        commands
            .support_diversion_review(&rang, &arden, review_id, DiversionSupportKind::Call, now)
            .await?;
    }
    let mill = OdsCode::parse("Z00012").map_err(invalid("odsCode"))?;
    let began = now - TimeDelta::minutes(90);
    let notice = DiversionNotice {
        from: began,
        expected_until: began + TimeDelta::hours(4),
        reason: DiversionReason::StaffShortage,
        detail: Some(FreeText::parse("Two receptionists off sick.").map_err(invalid("detail"))?),
    };
    let rang = CommandContext::new(icb)
        .with_command_id("demo-diversion-mill")
        .at(began + TimeDelta::minutes(10));
    match commands.notify_diversion(&rang, &mill, notice, now).await {
        // A demo started again on the same database keeps the first run's.
        Ok(_) | Err(CommandError::Rejected(CaseError::DiversionOverlaps(_))) => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap_or_default()
    }

    const FILES: [(&str, &str); 5] = [
        ("dashboard-week-00.csv", "report_date,ods_code\n2026-01-05,Z1\n"),
        ("dashboard-week-03.csv", "report_date,ods_code\n2026-01-26,Z1\n"),
        ("dashboard-week-04.csv", "report_date,ods_code\n2026-02-02,Z1\n"),
        (
            "interventions.jsonl",
            "{\"at\":\"2026-01-06T09:00:00Z\",\"kind\":\"CaseAssigned\"}\n\
             {\"at\":\"2026-01-30T15:00:00Z\",\"kind\":\"GpConnectReEnabled\"}\n\
             {\"at\":\"2026-02-01T12:00:00Z\",\"kind\":\"DhuVisibilityConfirmed\"}",
        ),
        ("practices.csv", "ods_code\nZ1\n"),
    ];

    fn file(moved: &[(String, String)], name: &str) -> Option<String> {
        moved.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone())
    }

    #[test]
    fn the_story_is_cut_at_the_same_point_and_moved_by_whole_weeks_whatever_the_day() {
        // Every day of a fortnight over Christmas and New Year, early and late.
        for day in 0..16 {
            for hour in [0, 14, 23] {
                let now = at(2026, 12, 20, hour) + TimeDelta::days(day);
                let moved = in_progress(&FILES, now);
                assert_eq!(file(&moved, "dashboard-week-04.csv"), None, "after the cut: never");
                let interventions = file(&moved, "interventions.jsonl").unwrap_or_default();
                assert_eq!(
                    interventions.lines().count(),
                    2,
                    "the same two before the cut: {interventions}"
                );
                assert!(
                    !interventions.contains("DhuVisibilityConfirmed"),
                    "after the cut: never"
                );
                // The last moment kept (Friday 15:00) lands on the latest Friday 15:00 before now.
                let last = interventions
                    .lines()
                    .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                    .filter_map(|value| instant(value["at"].as_str()?))
                    .max()
                    .unwrap_or_default();
                assert!(last <= now && now - last < TimeDelta::weeks(1), "{now}: {last}");
                assert_eq!(last.weekday(), chrono::Weekday::Fri);
                let week0 = file(&moved, "dashboard-week-00.csv").unwrap_or_default();
                let monday = date(
                    week0
                        .lines()
                        .nth(1)
                        .unwrap_or_default()
                        .split(',')
                        .next()
                        .unwrap_or_default(),
                );
                assert_eq!(monday.map(|d| d.weekday()), Some(chrono::Weekday::Mon), "{week0}");
                assert_eq!(file(&moved, "practices.csv").as_deref(), Some("ods_code\nZ1\n"));
            }
        }
    }

    #[test]
    fn before_the_story_it_moves_back_as_well() {
        let moved = in_progress(&FILES, at(2025, 6, 2, 9));
        let interventions = file(&moved, "interventions.jsonl").unwrap_or_default();
        assert!(interventions.contains("2025-05-30T15:00:00"), "{interventions}");
    }
}
