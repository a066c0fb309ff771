"""The list's previews from plain record values: conversations, references, plain inputs, long text."""

from __future__ import annotations

from aitrace_viewer.store._preview import PREVIEW_CHARS, input_preview, meta_json, output_preview, tags_json


def _msg(role: str, text: str) -> dict[str, object]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def test_a_conversation_previews_its_first_user_message_and_final_answer() -> None:
    state = {
        "messages": [
            _msg("system", "You are terse."),
            _msg("user", "What is 12 * 7?"),
            {"role": "assistant", "parts": [{"type": "tool_call", "name": "calc"}]},
            _msg("tool", "84"),
            _msg("assistant", "It is 84."),
            _msg("user", "Thanks!"),
        ]
    }
    assert input_preview(state) == "What is 12 * 7?"
    assert output_preview(state) == "It is 84."
    # LangChain's own message form (type + content) reads the same
    assert input_preview([{"type": "human", "content": "hi there"}]) == "hi there"


def test_a_final_answer_written_elsewhere_is_left_for_the_model_spans() -> None:
    state = {"messages": [{"$ref": [1, 3], "$span": "00f067aa0ba902b7"}]}
    assert output_preview(state) is None
    assert output_preview({"$ref": 4, "$span": "00f067aa0ba902b7"}) is None
    # not an earlier answer in its place: the last message is the final answer, wherever it was written
    later = {
        "messages": [
            _msg("user", "q"),
            _msg("assistant", "a draft"),
            {"$ref": 5, "$span": "00f067aa0ba902b7"},
        ]
    }
    assert output_preview(later) is None


def test_plain_values_show_as_one_short_line() -> None:
    assert input_preview({"question": "Why\n  is the   sky blue?"}) == "Why is the sky blue?"
    assert input_preview({"order_id": "A-1", "total": 0.0}) == '{"order_id": "A-1", "total": 0.0}'
    assert output_preview(None) is None
    assert input_preview({}) is None
    long = input_preview("x" * 1000)
    assert long is not None
    assert len(long) == PREVIEW_CHARS
    assert long.endswith("…")


def test_tags_and_metadata_keep_only_what_the_list_can_show() -> None:
    assert tags_json(["a", 3, "", "b"]) == '["a", "b"]'
    assert tags_json("a") is None
    assert meta_json({}) is None
    assert meta_json({"user_id": "u1"}) == '{"user_id": "u1"}'
