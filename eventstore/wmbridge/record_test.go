package wmbridge_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/eventstore/wmbridge"
	"github.com/oklog/ulid/v2"
)

// recordKeys are the metadata keys of a domain event message, in the order FuzzRecordFromMessage
// takes their values.
var recordKeys = []string{
	wmbridge.MetadataType, wmbridge.MetadataStreamID, wmbridge.MetadataVersion, wmbridge.MetadataPosition,
	wmbridge.MetadataOccurredOn, wmbridge.MetadataRecordedAt, wmbridge.MetadataActor, wmbridge.MetadataRole,
	wmbridge.MetadataUnit, wmbridge.MetadataRequestID, wmbridge.MetadataCorrelationID, wmbridge.MetadataCausationID,
}

func sampleRecord() eventstore.Record {
	return eventstore.Record{
		ID:       ulid.MustParse("01HX3J7Q8V2M4N6P8R0T2W4Y6A"),
		StreamID: "project-01HX3J7Q8V2M4N6P8R0T2W4Y6B",
		Version:  3,
		Type:     "project.funding_approved.v1",
		Data:     []byte(`{"amount": 15000000000, "source": "provincial"}`),
		Position: eventstore.Position{TxID: 7412, Seq: 95},
		Metadata: eventstore.Metadata{
			Actor: "u-42", Role: "finance_officer", Unit: "SO-TC", RequestID: "req-1",
			CorrelationID: "corr-1", CausationID: "cmd-1",
			OccurredOn: time.Date(2023, 6, 30, 0, 0, 0, 0, time.UTC),
			RecordedAt: time.Date(2023, 7, 2, 3, 4, 5, 123456000, time.UTC),
		},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	r := sampleRecord()
	msg := wmbridge.MessageFromRecord(r)
	msg.Metadata.Set("handler_name", "added by a router") // unknown keys are ignored
	got, err := wmbridge.RecordFromMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRecord(got, r) {
		t.Errorf("RecordFromMessage(MessageFromRecord(r)) = %+v, want %+v", got, r)
	}
	delete(msg.Metadata, wmbridge.MetadataActor)
	got, err = wmbridge.RecordFromMessage(msg)
	if err != nil || got.Metadata.Actor != "" {
		t.Errorf("without actor: actor %q, %v; want empty and no error", got.Metadata.Actor, err)
	}
}

func TestRecordFromMessageRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, key, value string // key "uuid" sets the UUID, "payload" the payload
	}{
		{"lower-case ulid", "uuid", "01hx3j7q8v2m4n6p8r0t2w4y6a"},
		{"uuid not a ulid", "uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"payload not JSON", "payload", "{"},
		{"empty payload", "payload", ""},
		{"no type", wmbridge.MetadataType, ""},
		{"no stream", wmbridge.MetadataStreamID, ""},
		{"stream with NUL", wmbridge.MetadataStreamID, "project-\x00"},
		{"version 0", wmbridge.MetadataVersion, "0"},
		{"negative version", wmbridge.MetadataVersion, "-1"},
		{"version with sign", wmbridge.MetadataVersion, "+3"},
		{"version with leading zero", wmbridge.MetadataVersion, "03"},
		{"version overflows", wmbridge.MetadataVersion, "9223372036854775808"},
		{"position without slash", wmbridge.MetadataPosition, "7412"},
		{"position with sign", wmbridge.MetadataPosition, "7412/+95"},
		{"position with leading zero", wmbridge.MetadataPosition, "07412/95"},
		{"start position", wmbridge.MetadataPosition, "0/0"},
		{"month 13", wmbridge.MetadataOccurredOn, "2023-13-01"},
		{"31 June", wmbridge.MetadataOccurredOn, "2023-06-31"},
		{"date with time", wmbridge.MetadataOccurredOn, "2023-06-30T00:00:00Z"},
		{"year 0", wmbridge.MetadataOccurredOn, "0000-06-30"},
		{"recorded_at not UTC", wmbridge.MetadataRecordedAt, "2023-07-02T10:04:05.123456+07:00"},
		{"recorded_at trailing zero", wmbridge.MetadataRecordedAt, "2023-07-02T03:04:05.1234560Z"},
		{"recorded_at a date", wmbridge.MetadataRecordedAt, "2023-07-02"},
		{"actor not UTF-8", wmbridge.MetadataActor, "\xff"},
	} {
		msg := wmbridge.MessageFromRecord(sampleRecord())
		switch c.key {
		case "uuid":
			msg.UUID = c.value
		case "payload":
			msg.Payload = message.Payload(c.value)
		default:
			msg.Metadata.Set(c.key, c.value)
		}
		if _, err := wmbridge.RecordFromMessage(msg); !errors.Is(err, wmbridge.ErrBadRecord) {
			t.Errorf("%s: %v, want ErrBadRecord", c.name, err)
		}
	}
	if _, err := wmbridge.RecordFromMessage(nil); !errors.Is(err, wmbridge.ErrBadRecord) {
		t.Errorf("nil message: %v, want ErrBadRecord", err)
	}
}

// FuzzRecordFromMessage: RecordFromMessage never panics, every refusal matches ErrBadRecord,
// and a record it accepts encodes back to the very UUID, payload and metadata it came from
// (a key left out reads as empty). present has one bit per key of recordKeys: set, the key is
// in the message.
func FuzzRecordFromMessage(f *testing.F) {
	add := func(uuid string, payload []byte, present uint16, md map[string]string) {
		v := make([]string, len(recordKeys))
		for i, k := range recordKeys {
			v[i] = md[k]
		}
		f.Add(uuid, payload, present, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11])
	}
	good := wmbridge.MessageFromRecord(sampleRecord())
	add(good.UUID, good.Payload, 0xfff, good.Metadata)
	add(good.UUID, good.Payload, 0x03f, good.Metadata)
	bad := good.Copy()
	bad.Metadata.Set(wmbridge.MetadataPosition, "1/+2")
	add(good.UUID, good.Payload, 0xfff, bad.Metadata)
	bad.Metadata.Set(wmbridge.MetadataRecordedAt, "2023-07-02T03:04:05+00:00")
	add(good.UUID, []byte(`"x"`), 0xfff, bad.Metadata)

	f.Fuzz(func(t *testing.T, uuid string, payload []byte, present uint16,
		typ, stream, version, position, occurredOn, recordedAt, actor, role, unit, request, correlation, causation string) {
		values := []string{typ, stream, version, position, occurredOn, recordedAt, actor, role, unit, request, correlation, causation}
		msg := message.NewMessage(uuid, payload)
		want := map[string]string{}
		for i, k := range recordKeys {
			if present&(1<<i) != 0 {
				msg.Metadata.Set(k, values[i])
				want[k] = values[i]
			}
		}
		msg.Metadata.Set("unrelated", typ)

		r, err := wmbridge.RecordFromMessage(msg)
		if err != nil {
			if !errors.Is(err, wmbridge.ErrBadRecord) {
				t.Fatalf("error %v does not match ErrBadRecord", err)
			}
			return
		}
		again := wmbridge.MessageFromRecord(r)
		if again.UUID != uuid || !bytes.Equal(again.Payload, payload) {
			t.Fatalf("re-encoded %q %q, want %q %q", again.UUID, again.Payload, uuid, payload)
		}
		if len(again.Metadata) != len(recordKeys) {
			t.Fatalf("re-encoded metadata has %d keys, want %d: %v", len(again.Metadata), len(recordKeys), again.Metadata)
		}
		for _, k := range recordKeys {
			if got := again.Metadata.Get(k); got != want[k] {
				t.Fatalf("re-encoded %s = %q, want %q", k, got, want[k])
			}
		}
	})
}
