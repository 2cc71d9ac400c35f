//! From a cleaned document to an English brief: chunk to the context budget,
//! take notes per chunk (map), merge the notes into the brief (reduce), then
//! check the brief is English and states only facts the source has, asking
//! the model again once where it is not.

pub(crate) mod answer;
mod ask;
mod assemble;
mod briefer;
mod checks;
pub(crate) mod chunk;
mod english;
mod follow_ups;
pub(crate) mod ground;
mod notes;
mod options;
mod reduce;
mod select;
pub(crate) mod translate;

pub use crate::brief::BriefMethod;
pub use answer::{dedupe_points, parse_brief_answer};
pub use assemble::brief_document;
pub use checks::is_english;
pub use ground::{
    split_citations, Grounder, NEAREST_MARGIN, NEAREST_PARAGRAPHS, SUPPORT_THRESHOLD,
    SUPPORT_THRESHOLD_WITH_FIGURES,
};
pub use options::{
    BriefOptions, BriefRequest, PipelineError, PipelineEvent, Stage, KEY_POINTS, SUMMARY_WORDS,
};
pub use translate::{translate_document, translate_lines, TranslateOptions, TranslateRequest};

#[cfg(test)]
mod tests {
    use super::answer::parse_brief_answer;
    use super::reduce::{finished_sentences, mend_cut_answer, summary_candidates};
    use super::*;
    use crate::brief::{Brief, ModelInfo};
    use crate::generate::{ScriptedGenerator, StopReason};
    use crate::ingest::Document;
    use crate::model::ChatMessage;
    use crate::prompts::PromptSet;

    const SWEDISH: &str = "Rådets möte den 12-13 juni\n\nSverige stöder de föreslagna rådsslutsatserna om integration. \
        Vid ett informellt möte i Potsdam den 10-11 maj diskuterade EU:s integrationsministrar samarbetet.\n\n\
        Utgångspunkten är de gemensamma grundläggande principerna som rådet antog i november 2004.";

    const GOOD: &str = "TITLE: Council conclusions on integration\nSUMMARY: Sweden supports the proposed Council conclusions on integration. \
        At an informal meeting in Potsdam on 10-11 May, the EU integration ministers discussed cooperation.\n\
        KEY POINTS:\n- Sweden supports the proposed conclusions on integration policy.\n- The ministers met informally in Potsdam on 10-11 May.\n\
        - The common basic principles were adopted by the Council in November 2004.\n";

    /// `n` numbered Danish paragraphs, long enough to need several parts.
    fn danish_sections(n: usize) -> String {
        (1..=n)
            .map(|i| format!("Afsnit {i}. Regeringen har besluttet at styrke indsatsen for integration i kommune nummer {i}.\n\n"))
            .collect()
    }

    /// The options of a brief written from the source itself.
    fn direct() -> BriefOptions {
        BriefOptions {
            method: BriefMethod::Direct,
            ..BriefOptions::default()
        }
    }

    fn document(text: &str) -> Document {
        crate::ingest::ingest_bytes("doc.txt", text.as_bytes()).unwrap()
    }

    fn run(generator: &mut ScriptedGenerator, doc: &Document, options: &BriefOptions) -> Brief {
        let prompts = PromptSet::builtin().unwrap();
        let request = BriefRequest {
            id: "doc".into(),
            document: doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
            embedder: None,
        };
        brief_document(generator, &prompts, &request, options, &mut |_| {}).unwrap()
    }

    #[test]
    fn a_short_document_is_briefed_in_one_call_naming_its_language() {
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        // The brief, then the short summary asked for again (the script repeats itself).
        assert_eq!(g.calls.len(), 2);
        assert!(g.calls[0][1].content.contains("written in Swedish"));
        assert!(g.calls[0][1].content.contains("Potsdam den 10-11 maj"));
        assert_eq!(brief.title, "Council conclusions on integration");
        assert_eq!(brief.key_points.len(), 3);
        assert_eq!(brief.language.code, "swe");
        assert_eq!(brief.generation.chunks, 1);
        // Only the short summary is worth a warning.
        assert_eq!(brief.warnings.len(), 1, "{:?}", brief.warnings);
        assert!(brief.warnings[0].contains("summary has"));
    }

    #[test]
    fn a_brief_records_its_model_calls_by_stage_and_drops_remarks_on_itself() {
        let answer = format!(
            "{GOOD}\n- The summary and key points are based on the content provided in the Swedish text."
        );
        let mut g = ScriptedGenerator {
            brief: vec![answer],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        assert_eq!(brief.key_points.len(), 3, "{:?}", brief.key_points);
        assert!(brief.key_points.iter().all(|p| !p.contains("based on")));
        // The brief, then its summary asked for again (too short).
        let stages: Vec<(&str, usize)> = brief
            .timings
            .stages
            .iter()
            .map(|s| (s.stage.as_str(), s.calls))
            .collect();
        assert_eq!(stages, [("brief", 1), ("summary", 1)]);
        let read: usize = brief.timings.stages.iter().map(|s| s.prompt_tokens).sum();
        assert_eq!(read, brief.timings.prompt_tokens);
        assert!(brief.timings.stages[0].prompt_tokens > 50);
    }

    fn long_summary(extra: &str) -> String {
        let sentence = "Sweden supports the proposed Council conclusions on integration of migrants in the member states. ";
        format!("SUMMARY: {}{extra}", sentence.repeat(7))
    }

    #[test]
    fn a_short_summary_is_asked_again_in_the_same_conversation() {
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into(), long_summary("")],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        assert_eq!(g.calls.len(), 2);
        let follow_up = &g.calls[1];
        // The first exchange is kept word for word, so its cache is reused.
        assert_eq!(follow_up[..2], g.calls[0][..]);
        assert_eq!(follow_up[2].role, "assistant");
        assert_eq!(follow_up[2].content, GOOD);
        assert!(follow_up[3].content.contains("too few"));
        assert!(follow_up[3].content.contains(&format!(
            "has only {} words",
            GOOD.lines().nth(1).unwrap().split_whitespace().count() - 1
        )));
        assert_eq!(brief.summary.split_whitespace().count(), 98);
        assert_eq!(brief.key_points.len(), 3, "the key points stay");
        assert!(brief.warnings.is_empty(), "{:?}", brief.warnings);
    }

    #[test]
    fn a_longer_summary_with_an_invented_fact_is_not_taken() {
        let mut g = ScriptedGenerator {
            brief: vec![
                GOOD.into(),
                long_summary("The ministers met again in Oslo in 2019."),
            ],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        assert_eq!(g.calls.len(), 2);
        assert!(brief
            .summary
            .starts_with("Sweden supports the proposed Council conclusions on integration. At"));
        assert!(brief.warnings.iter().any(|w| w.contains("summary has")));
    }

    #[test]
    fn a_long_document_goes_through_notes_that_reach_its_last_part() {
        let mut text = danish_sections(40);
        text.push_str("Konklusion. Samarbejdet med Tunesien og Jordan fortsætter efter 2013.\n");
        let notes: Vec<String> = (1..=10)
            .map(|i| format!("- Note {i} on the work of the government."))
            .collect();
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            notes,
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 256,
            ..direct()
        };
        let brief = run(&mut g, &document(&text), &options);
        let note_calls: Vec<_> = g
            .calls
            .iter()
            .filter(|c| c[1].content.contains("\nPART "))
            .collect();
        assert!(note_calls.len() >= 2, "{} note calls", note_calls.len());
        assert_eq!(brief.generation.chunks, note_calls.len());
        // The last part read holds the conclusion, and the reduce prompt holds every part's notes.
        assert!(note_calls.last().unwrap()[1]
            .content
            .contains("Tunesien og Jordan"));
        let reduce = &g.calls.last().unwrap()[1].content;
        assert!(reduce.contains("NOTES:") && !reduce.contains("DOCUMENT:"));
        assert!(reduce.contains(&format!("Part {0} of {0}:", note_calls.len())));
    }

    #[test]
    fn a_note_not_in_english_is_dropped_and_a_part_with_too_few_english_ones_asked_again() {
        const DANISH_NOTE: &str =
            "- Regeringen har besluttet at styrke indsatsen for integration i kommunerne.";
        let english = |n: usize| {
            (1..=n)
                .map(|i| format!("- Note {i} says the government will act on integration."))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let options = BriefOptions {
            context_budget: 256,
            ..direct()
        };
        let text = danish_sections(40);
        for (english_notes, asked_again) in [(3, false), (2, true)] {
            let mut g = ScriptedGenerator {
                brief: vec![GOOD.into()],
                notes: vec![format!("{}\n{DANISH_NOTE}", english(english_notes))],
                ..Default::default()
            };
            let brief = run(&mut g, &document(&text), &options);
            let note_calls = g
                .calls
                .iter()
                .filter(|c| c[1].content.contains("\nPART "))
                .count();
            let parts = brief.generation.chunks;
            let expected = if asked_again { 2 * parts } else { parts };
            assert_eq!(note_calls, expected, "{english_notes} English notes");
            let reduce = g
                .calls
                .iter()
                .find(|c| c[1].content.contains("NOTES:"))
                .unwrap();
            assert!(!reduce[1].content.contains("Regeringen"));
            assert!(reduce[1].content.contains("Note 2 says"));
            let warned = brief.warnings.iter().any(|w| w.contains("notes on part"));
            assert_eq!(warned, asked_again, "{:?}", brief.warnings);
        }
    }

    /// Parts are written `parallel` at a time (one `generate_many` call each);
    /// a part whose notes are not English is asked again after its group,
    /// alone, and the notes keep the parts' order.
    #[test]
    fn notes_are_written_in_groups_and_only_foreign_parts_are_asked_again() {
        const ENGLISH: &str = "- The government will act on integration.\n- The work is done locally.\n- Money follows.";
        const DANISH: &str =
            "- Regeringen har besluttet at styrke indsatsen for integration i kommunerne.";
        // In call order: part 1 Danish, parts 2–4 English, part 1 again
        // (English, marked), then English for the rest.
        let mut notes = vec![DANISH.to_string()];
        notes.extend(std::iter::repeat_n(ENGLISH.to_string(), 3));
        notes.push(format!("{ENGLISH}\n- Part one, asked again."));
        notes.push(ENGLISH.to_string());
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            notes,
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 256,
            parallel: 4,
            ..direct()
        };
        let prompts = PromptSet::builtin().unwrap();
        let text = danish_sections(100);
        let doc = document(&text);
        let request = BriefRequest {
            id: "doc".into(),
            document: &doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
            embedder: None,
        };
        let mut groups = Vec::new();
        let brief = brief_document(&mut g, &prompts, &request, &options, &mut |e| {
            if let PipelineEvent::Stage(Stage::Notes { first, last, parts }) = e {
                groups.push((first, last, parts));
            }
        })
        .unwrap();
        let parts = brief.generation.chunks;
        assert!(parts > 4, "{parts} parts");
        assert_eq!(brief.generation.parallel, 4);
        assert_eq!(groups[0], (1, 4, parts));
        assert_eq!(groups[1], (5, 8.min(parts), parts));
        assert_eq!(groups.len(), parts.div_ceil(4));
        let part_of = |call: &Vec<ChatMessage>| -> Option<usize> {
            let text = &call[1].content;
            let at = text.find("\nPART ")? + "\nPART ".len();
            text[at..].split_whitespace().next()?.parse().ok()
        };
        let order: Vec<usize> = g.calls.iter().filter_map(part_of).collect();
        assert_eq!(&order[..6], &[1, 2, 3, 4, 1, 5], "{order:?}");
        assert_eq!(
            &g.batches[..3],
            &[4, 1, (parts - 4).min(4)],
            "parts asked together"
        );
        assert_eq!(order.len(), parts + 1);
        let reduce = &g.calls.last().unwrap()[1].content;
        let first_part = reduce.find("Part 1 of").unwrap();
        let second_part = reduce.find("Part 2 of").unwrap();
        let again = reduce.find("Part one, asked again.").unwrap();
        assert!(first_part < again && again < second_part, "{reduce}");
        assert!(!reduce.contains("Regeringen"));
        assert!(brief.warnings.iter().all(|w| !w.contains("notes on part")));
    }

    /// The brief's answer in the tests of replies asked after a brief from notes.
    const NOTES_BRIEF_ANSWER: &str = "TITLE: Integration in the municipalities\nSUMMARY: The government has decided to strengthen integration.\n\
        KEY POINTS:\n- The government will strengthen its work on integration.\n- The work is done in the municipalities.\n\
        - Every municipality has its own number.\n";

    /// `text` briefed from notes (a small context budget) with
    /// `NOTES_BRIEF_ANSWER` as the brief, asked again once for its short
    /// summary (no better), then `replies` to the follow-up questions.
    fn brief_from_notes(text: &str, replies: &[&str]) -> (ScriptedGenerator, Brief) {
        let mut brief = vec![NOTES_BRIEF_ANSWER.to_string(); 2];
        brief.extend(replies.iter().map(|r| r.to_string()));
        let mut g = ScriptedGenerator {
            brief,
            notes: vec!["- Note on the work of the government.".into()],
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 128,
            ..direct()
        };
        let brief = run(&mut g, &document(text), &options);
        (g, brief)
    }

    #[test]
    fn a_brief_from_notes_asks_for_key_points_from_the_last_parts() {
        let mut text = danish_sections(40);
        text.push_str("Konklusion. Samarbejdet med Tunesien og Jordan fortsætter efter 2013.\n");
        let late = "- The conclusion says that the government has decided many things in many municipalities, and it goes on at length about all of them, one after another, without ever stopping to make one single point that a reader could take away from it, which is what a paragraph does and what a key point must not do. (¶41)\n\
            - The conclusion says that the cooperation continues after 2013. (¶41)\n\
            - The cooperation continues in 2031 according to the conclusion. (¶41)";
        let (g, brief) = brief_from_notes(&text, &[late]);
        let parts = brief.generation.chunks;
        assert!(parts >= 3, "{parts} parts");
        let request = g.calls.last().unwrap();
        assert_eq!(
            request[2].content, NOTES_BRIEF_ANSWER,
            "a reply in the brief's conversation"
        );
        assert!(
            request[3]
                .content
                .contains(&format!("Part {} to Part {parts}", parts - parts / 3 + 1)),
            "{}",
            request[3].content
        );
        // The supported late point is added; the one with an invented year is not.
        assert_eq!(brief.key_points.len(), 4, "{:?}", brief.key_points);
        assert_eq!(
            brief.key_points.last().unwrap(),
            "The conclusion says that the cooperation continues after 2013."
        );
        assert!(!brief.key_points.iter().any(|p| p.contains("2031")));
    }

    #[test]
    fn a_brief_from_notes_asks_for_a_point_from_the_part_holding_the_conclusion() {
        let mut text = danish_sections(60);
        text.push_str(
            "6. KONKLUSION\n\nSamarbejdet med Tunesien og Jordan fortsætter efter 2013.\n\n",
        );
        text.push_str("BILAG I\n\n");
        text.push_str(&danish_sections(8));
        let late = "- The government strengthens integration in municipality number 30. (¶30)";
        let conclusion = "- The document concludes that the cooperation with Tunesien and Jordan continues after 2013. (¶43)";
        let (g, brief) = brief_from_notes(&text, &[late, conclusion]);
        let parts = brief.generation.chunks;
        let note_calls: Vec<_> = g
            .calls
            .iter()
            .filter(|c| c[1].content.contains("\nPART "))
            .collect();
        let conclusion_part = note_calls
            .iter()
            .position(|c| c[1].content.contains("KONKLUSION"))
            .unwrap()
            + 1;
        assert!(
            conclusion_part > parts - parts / 3 + 1 && conclusion_part < parts,
            "the conclusion, part {conclusion_part} of {parts}, is in the last third, before the annex"
        );
        let asks: Vec<&str> = g.calls[g.calls.len() - 2..]
            .iter()
            .map(|c| c[3].content.as_str())
            .collect();
        // The late point comes from the last third up to the part before the conclusion.
        assert!(
            asks[0].contains(&format!(
                "Part {}, which hold the document's later sections. ",
                conclusion_part - 1
            )),
            "{}",
            asks[0]
        );
        assert!(
            asks[1].contains(&format!(
                "Part {conclusion_part}, which holds the document's conclusion"
            )),
            "{}",
            asks[1]
        );
        assert_eq!(brief.key_points.len(), 5, "{:?}", brief.key_points);
        assert!(brief.key_points[4].contains("continues after 2013"));
        assert!(brief.key_points[3].contains("number 30"));
    }

    /// Key points a follow-up gives in the tests of briefs with too few.
    const MORE_POINTS: &str =
        "- Sweden supports the proposed conclusions on integration policy. (¶2)\n\
        - The common basic principles were adopted by the Council in November 2004. (¶3)";

    /// `answer` as the brief (twice: its summary is short and asked again),
    /// then `MORE_POINTS` as the reply to the follow-up; returns the brief
    /// and the follow-up's request.
    fn brief_asked_for_points(answer: String) -> (Brief, String) {
        let mut g = ScriptedGenerator {
            brief: vec![answer.clone(), answer, MORE_POINTS.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        let request = g.calls.last().unwrap()[3].content.clone();
        (brief, request)
    }

    #[test]
    fn an_answer_without_key_points_is_asked_for_them() {
        let summary_only = GOOD.split("KEY POINTS:").next().unwrap().to_string();
        let (brief, request) = brief_asked_for_points(summary_only);
        assert!(request.contains("no KEY POINTS"), "{request}");
        assert_eq!(brief.key_points.len(), 2, "{:?}", brief.key_points);
        assert!(brief.key_points[1].contains("November 2004"));
    }

    #[test]
    fn an_answer_with_too_few_key_points_is_asked_for_more_and_keeps_its_own() {
        let two_points = GOOD.replace(
            "- The common basic principles were adopted by the Council in November 2004.\n",
            "",
        );
        let (brief, request) = brief_asked_for_points(two_points);
        assert!(request.contains("only 2 KEY POINTS"), "{request}");
        assert_eq!(brief.key_points.len(), 3, "{:?}", brief.key_points);
        assert!(
            brief.key_points[1].contains("Potsdam"),
            "its own points first"
        );
        assert!(brief.key_points[2].contains("November 2004"));
        assert!(brief
            .warnings
            .iter()
            .all(|w| !w.contains("key points (expected")));
    }

    #[test]
    fn an_answer_without_a_title_is_asked_for_one() {
        let echoed = GOOD.replace(
            "TITLE: Council conclusions on integration",
            "TITLE: An English title on one line",
        );
        let brief_with_title_reply = |reply: &str| {
            let mut g = ScriptedGenerator {
                // The brief (twice: its summary is short and asked again), then the title.
                brief: vec![echoed.clone(), echoed.clone(), reply.into()],
                ..Default::default()
            };
            let brief = run(&mut g, &document(SWEDISH), &direct());
            let request = g.calls.last().unwrap().clone();
            (brief, request)
        };
        let (brief, request) = brief_with_title_reply("Title: EU conclusions on integration.");
        assert!(
            request[3].content.contains("no English title"),
            "{request:?}"
        );
        assert_eq!(brief.title, "EU conclusions on integration");
        // A title with a fact the document lacks is not taken.
        let (brief, _) = brief_with_title_reply("The 2031 integration reform");
        assert_eq!(brief.title, "");
    }

    #[test]
    fn a_summary_reply_offers_each_prose_paragraph_and_cut_ones_end_at_a_sentence() {
        let reply = "SUMMARY: A short summary.\n\nKEY POINTS:\n- One point.\n- Another point.\n\n\
SUMMARY: A longer summary with 3.5 million people. It runs on and is cut off in the mid";
        assert_eq!(
            summary_candidates(reply, StopReason::TokenCap),
            vec![
                "A short summary.",
                "A longer summary with 3.5 million people."
            ]
        );
        assert_eq!(
            summary_candidates(reply, StopReason::EndOfTurn)[1],
            "A longer summary with 3.5 million people. It runs on and is cut off in the mid"
        );
        assert_eq!(finished_sentences("No sentence ends here"), None);
        assert_eq!(finished_sentences("Why? Because"), Some("Why?"));
    }

    #[test]
    fn an_answer_cut_by_the_token_cap_loses_its_broken_sentence() {
        let mut parsed = parse_brief_answer(
            "TITLE: T\nSUMMARY: S.\nKEY POINTS:\n- A whole point (¶2)\n\
- Moldova meets all benchmarks. Following this, the Commission proposed",
        );
        mend_cut_answer(&mut parsed);
        assert_eq!(
            parsed.key_points,
            vec!["A whole point (¶2)", "Moldova meets all benchmarks."]
        );
        let mut parsed = parse_brief_answer("KEY POINTS:\n- One point.\n- Cut in the mid");
        mend_cut_answer(&mut parsed);
        assert_eq!(parsed.key_points, vec!["One point."]);
        let mut parsed = parse_brief_answer("SUMMARY: The first sentence. The second is cu");
        mend_cut_answer(&mut parsed);
        assert_eq!(parsed.summary, "The first sentence.");
    }

    #[test]
    fn a_note_cut_off_by_the_token_cap_is_left_out() {
        let text = danish_sections(40);
        let complete = "- The government will strengthen integration in the municipalities.\n";
        let notes = format!(
            "{}- The last note goes on and on {}",
            complete.repeat(3),
            "and on ".repeat(300)
        );
        let mut g = ScriptedGenerator {
            brief: vec![GOOD.into()],
            notes: vec![notes],
            ..Default::default()
        };
        let options = BriefOptions {
            context_budget: 256,
            ..direct()
        };
        run(&mut g, &document(&text), &options);
        let reduce = g
            .calls
            .iter()
            .find(|c| c[1].content.contains("NOTES:"))
            .expect("a reduce prompt");
        assert!(reduce[1]
            .content
            .contains("strengthen integration in the municipalities"));
        assert!(!reduce[1].content.contains("goes on and on"));
    }

    #[test]
    fn notes_beyond_the_reduce_budget_are_condensed_by_notes_on_notes() {
        let text = danish_sections(120);
        let notes: Vec<String> = (1..=20)
            .map(|i| {
                format!(
                    "- Note {i} on the work of the government in the municipalities of Denmark."
                )
                .repeat(3)
            })
            .collect();
        let run_with = |reduce_budget: usize| {
            let mut g = ScriptedGenerator {
                brief: vec![GOOD.into()],
                notes: notes.clone(),
                ..Default::default()
            };
            let options = BriefOptions {
                context_budget: 256,
                reduce_budget,
                ..direct()
            };
            let brief = run(&mut g, &document(&text), &options);
            let second_round = g
                .calls
                .iter()
                .filter(|c| c[1].content.contains("written in English"))
                .count();
            (brief.generation.chunks, second_round)
        };
        let (parts, second_round) = run_with(BriefOptions::default().reduce_budget);
        assert_eq!(second_round, 0, "all notes fit one reduce prompt");
        let (condensed, second_round) = run_with(256);
        assert!(second_round >= 1, "notes were taken on the notes");
        assert_eq!(condensed, parts + second_round);
    }

    #[test]
    fn a_non_english_brief_is_asked_again_strictly_then_warned() {
        let swedish = "TITLE: Rådets slutsatser\nSUMMARY: Sverige stöder de föreslagna rådsslutsatserna om integration och samarbete mellan medlemsstaterna.\n\
            KEY POINTS:\n- Sverige stöder de föreslagna slutsatserna om integrationen.\n- Mötet hölls i Potsdam den 10-11 maj med ministrarna.\n- Principerna antogs av rådet i november 2004.";
        let mut g = ScriptedGenerator {
            brief: vec![swedish.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        assert!(g.calls.len() >= 2);
        assert!(g.calls[1][1].content.contains("not entirely in English"));
        assert!(
            brief.warnings.iter().any(|w| w.contains("not in English")),
            "{:?}",
            brief.warnings
        );
    }

    #[test]
    fn an_invented_fact_is_named_in_a_second_request_and_fixed() {
        let invented = GOOD.replace(
            "in November 2004",
            "in November 2019 by Minister Lars Eriksson",
        );
        let mut g = ScriptedGenerator {
            brief: vec![invented, GOOD.into()],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        // The brief, its retry, then the short summary asked for again.
        assert_eq!(g.calls.len(), 3);
        let retry = &g.calls[1][1].content;
        assert!(
            retry.contains("2019") && retry.contains("Lars Eriksson"),
            "{retry}"
        );
        assert!(brief.key_points.iter().any(|p| p.contains("November 2004")));
        assert!(!brief
            .warnings
            .iter()
            .any(|w| w.contains("not found in the source")));
    }

    #[test]
    fn a_persistent_invented_fact_is_kept_with_a_warning_naming_it() {
        let invented = GOOD.replace("in November 2004", "in November 2019");
        let mut g = ScriptedGenerator {
            brief: vec![invented],
            ..Default::default()
        };
        let brief = run(&mut g, &document(SWEDISH), &direct());
        let warning = brief
            .warnings
            .iter()
            .find(|w| w.contains("not found in the source"))
            .expect("a warning");
        assert!(warning.contains("2019"), "{warning}");
    }

    #[test]
    fn a_document_without_text_is_an_error() {
        let mut doc = document(SWEDISH);
        doc.paragraphs.clear();
        let prompts = PromptSet::builtin().unwrap();
        let request = BriefRequest {
            id: "d".into(),
            document: &doc,
            model: ModelInfo::default(),
            load_seconds: 0.0,
            embedder: None,
        };
        let mut g = ScriptedGenerator::default();
        let err = brief_document(&mut g, &prompts, &request, &direct(), &mut |_| {});
        assert!(matches!(err, Err(PipelineError::EmptyDocument { .. })));
        assert!(g.calls.is_empty());
    }
}
