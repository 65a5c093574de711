from keel import context


def test_a_valid_traceparent_is_continued() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    trace = context.TraceContext.parse(parent)
    assert trace is not None
    assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_malformed_or_all_zero_traceparents_are_ignored() -> None:
    assert context.TraceContext.parse("garbage") is None
    assert context.TraceContext.parse("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None


def test_kafka_headers_carry_the_current_trace_to_the_consumer() -> None:
    trace = context.TraceContext.new()
    with context.bind(trace):
        headers = context.kafka_headers()
    received = context.from_kafka_headers(headers)
    assert received.trace_id == trace.trace_id
    assert received.span_id != trace.span_id


def test_messages_without_a_trace_start_a_new_one() -> None:
    assert context.from_kafka_headers(None).trace_id != context.from_kafka_headers(None).trace_id
