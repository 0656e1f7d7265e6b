//! The demo's story as work in progress: the case study moved in time so that a moment in its
//! fourth week is this week, and cut there. Cases then sit in every stage, the oldest flags are
//! late; this week the ICB flagged a practice by hand, the DHU confirmed one case and saw a
//! shortfall on another, and filed a report for the ICB to triage. Whole weeks are added, so
//! every date keeps its weekday (and working days stay working days).

use caseledger_cases::case::RootCause;
use caseledger_cases::values::{FreeText, OdsCode, ShortText, SlotCount, ValueError};
use caseledger_cases::{Action, Actor, CaseError, Role};
use caseledger_commands::{CommandContext, CommandError, Commands};
use chrono::{DateTime, Days, NaiveDate, Utc};

/// Where the story stops: the Wednesday of its fourth week (week 0 is Monday 5 January 2026).
pub const CUTOFF: &str = "2026-01-28";

/// The whole weeks that bring `cutoff` to the latest same weekday on or before `today`.
fn shift(cutoff: NaiveDate, today: NaiveDate) -> Days {
    let days = (today - cutoff).num_days().max(0);
    Days::new(u64::try_from(days - days % 7).unwrap_or(0))
}

/// `files` (the case study's) moved by whole weeks so that `CUTOFF` is this week, without what
/// would lie after `now`.
pub fn in_progress(files: &[(&str, &str)], now: DateTime<Utc>) -> Vec<(String, String)> {
    let cutoff = NaiveDate::parse_from_str(CUTOFF, "%Y-%m-%d").unwrap_or_default();
    let by = shift(cutoff, now.date_naive());
    let moved_date = |text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.checked_add_days(by))
    };
    let mut out = Vec::new();
    for (name, text) in files {
        if name.starts_with("dashboard-") {
            let mut lines = text.lines();
            let header = lines.next().unwrap_or_default();
            let mut moved = vec![header.to_string()];
            let mut keep = true;
            for line in lines.filter(|line| !line.trim().is_empty()) {
                let (date, rest) = line.split_once(',').unwrap_or((line, ""));
                match moved_date(date) {
                    Some(date) if date <= now.date_naive() => moved.push(format!("{date},{rest}")),
                    _ => keep = false,
                }
            }
            if keep {
                out.push((name.to_string(), moved.join("\n") + "\n"));
            }
        } else if *name == "interventions.jsonl" {
            let kept: Vec<String> = text
                .lines()
                .filter_map(|line| {
                    let mut value: serde_json::Value = serde_json::from_str(line).ok()?;
                    let at = DateTime::parse_from_rfc3339(value["at"].as_str()?)
                        .ok()?
                        .with_timezone(&Utc);
                    let at = at.checked_add_days(by)?;
                    (at <= now).then(|| {
                        value["at"] = serde_json::Value::String(at.to_rfc3339());
                        value.to_string()
                    })
                })
                .collect();
            out.push((name.to_string(), kept.join("\n") + "\n"));
        } else {
            out.push((name.to_string(), text.to_string()));
        }
    }
    out
}

/// This week's work on top of the story: the DHU confirms the last case remapped and sees one
/// slot a day fewer than required on the one before (a shortfall to act on), files a report on a
/// practice with no case for the ICB to triage, and the ICB flags a practice by hand today.
pub async fn this_week(commands: &Commands, interventions: &str, now: DateTime<Utc>) -> Result<(), CommandError> {
    let invalid = |field: &'static str| {
        move |source: ValueError| CommandError::Rejected(CaseError::InvalidValue { field, source })
    };
    let dhu = Actor::new(ShortText::parse("dhu-liaison-1").map_err(invalid("actor"))?, Role::Dhu);
    // The last case remapped in the story that the DHU has not looked at since.
    let mut last: Vec<(String, String)> = Vec::new();
    for line in interventions.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(ods), Some(kind)) = (value["ods_code"].as_str(), value["kind"].as_str()) else {
            continue;
        };
        last.retain(|(o, _)| o != ods);
        last.push((ods.to_string(), kind.to_string()));
    }
    let remapped: Vec<String> = last
        .iter()
        .rev()
        .filter(|(_, kind)| kind == "SlotsRemapped")
        .map(|(ods, _)| ods.clone())
        .take(2)
        .collect();
    // The latest remapped is confirmed (it waits for the ICB); the one before falls one short.
    for (ods, short) in remapped.iter().zip([0, 1]) {
        let Some(case_id) = commands.latest_case_of(ods).await? else {
            continue;
        };
        let loaded = caseledger_commands::load(commands.store(), case_id, false).await?;
        let seen = i64::from(loaded.case.required_slots) - short;
        if seen < 0 {
            continue;
        }
        let seen = SlotCount::new(seen).map_err(invalid("visibleSlotsPerDay"))?;
        commands
            .execute(
                case_id,
                &CommandContext::new(dhu.clone()),
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
        commands
            .flag_practice(&CommandContext::new(icb).with_command_id("demo-flag"), action, now)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_story_moves_by_whole_weeks_and_stops_at_now() {
        let files = [
            ("dashboard-week-00.csv", "report_date,ods_code\n2026-01-05,Z1\n"),
            ("dashboard-week-04.csv", "report_date,ods_code\n2026-02-02,Z1\n"),
            (
                "interventions.jsonl",
                "{\"at\":\"2026-01-06T09:00:00Z\",\"kind\":\"CaseAssigned\"}\n{\"at\":\"2026-02-10T09:00:00Z\",\"kind\":\"X\"}",
            ),
            ("practices.csv", "ods_code\nZ1\n"),
        ];
        // Thursday 26 November 2026: 43 weeks and a day after the cutoff.
        let now = Utc
            .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let moved = in_progress(&files, now);
        let file = |name: &str| moved.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone());
        // 5 January + 43 weeks = Monday 2 November.
        assert_eq!(
            file("dashboard-week-00.csv").as_deref(),
            Some("report_date,ods_code\n2026-11-02,Z1\n")
        );
        assert_eq!(file("dashboard-week-04.csv"), None, "after now: not yet");
        let interventions = file("interventions.jsonl").unwrap_or_default();
        assert!(interventions.contains("2026-11-03T09:00:00"), "{interventions}");
        assert!(!interventions.contains("\"X\""), "after now: not yet");
        assert_eq!(file("practices.csv").as_deref(), Some("ods_code\nZ1\n"));
    }
}
