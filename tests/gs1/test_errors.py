"""What the gs1 exceptions carry: a client reads the message and the location of every refused event."""

from gs1.errors import GS1Error, InvalidEvent, InvalidIdentifier, SchemaUnavailable


def test_invalid_event_keeps_message_and_location_apart():
    located = InvalidEvent("action must be ADD, OBSERVE or DELETE", "epcisBody.eventList[0].action")
    assert (located.message, located.location) == ("action must be ADD, OBSERVE or DELETE",
                                                    "epcisBody.eventList[0].action")
    assert str(located) == "epcisBody.eventList[0].action: action must be ADD, OBSERVE or DELETE"
    bare = InvalidEvent("an event must be a JSON object")
    assert (bare.message, bare.location, str(bare)) == ("an event must be a JSON object", "",
                                                         "an event must be a JSON object")
    assert str(InvalidEvent("m", "")) == "m"


def test_the_error_family():
    assert issubclass(InvalidEvent, GS1Error) and issubclass(InvalidIdentifier, GS1Error)
    assert issubclass(GS1Error, ValueError) and not issubclass(SchemaUnavailable, GS1Error)
    assert issubclass(SchemaUnavailable, RuntimeError)
    assert str(InvalidIdentifier("x")) == "x"
