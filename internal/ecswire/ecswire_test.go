package ecswire

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// shape has a member of every kind the SDK's types use, in the SDK's habits:
// optional members are pointers, required ones values, enums named strings.
type shape struct {
	Name     *string
	Count    *int32
	Required int64
	Flag     bool
	Ratio    *float64
	When     *time.Time
	Data     []byte
	Kind     kind
	Tags     map[string]string
	Items    []item
	Groups   map[string][]string
	Strategy types.SharingStrategy
	hidden   string //nolint:unused // unexported fields are no members
}

type item struct {
	Names []string
	Inner *item
}

type kind string

func TestRoundTrip(t *testing.T) {
	when := time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	tests := []struct {
		name string
		in   shape
		wire string
	}{
		{"unset members are left out, required values are written",
			shape{}, `{"required":0,"flag":false}`},
		{"nil and empty differ: nil lists and maps are unset, empty ones are [] and {}",
			shape{Items: []item{}, Tags: map[string]string{}, Data: []byte{}},
			`{"required":0,"flag":false,"items":[],"tags":{},"data":""}`},
		{"scalars under their member names",
			shape{Name: aws.String("web"), Count: aws.Int32(-3), Required: 1 << 40, Flag: true, Ratio: aws.Float64(0.25)},
			`{"name":"web","count":-3,"required":1099511627776,"flag":true,"ratio":0.25}`},
		{"an empty string member that is set is written",
			shape{Name: aws.String("")}, `{"name":"","required":0,"flag":false}`},
		{"timestamps are epoch seconds with milliseconds",
			shape{When: &when}, `{"required":0,"flag":false,"when":1704164645.678}`},
		{"a whole-second timestamp is an integer",
			shape{When: aws.Time(when.Truncate(time.Second))}, `{"required":0,"flag":false,"when":1704164645}`},
		{"a timestamp before 1970",
			shape{When: aws.Time(time.Unix(-2, 500_000_000).UTC())}, `{"required":0,"flag":false,"when":-1.5}`},
		{"blobs are base64",
			shape{Data: []byte{0, 1, 0xfe, 0xff}}, `{"required":0,"flag":false,"data":"AAH+/w=="}`},
		{"an enum is its string",
			shape{Kind: "GPU"}, `{"required":0,"flag":false,"kind":"GPU"}`},
		{"map values and list elements are kept even when empty",
			shape{Tags: map[string]string{"a": ""}, Items: []item{{Names: []string{"", "x"}}}},
			`{"required":0,"flag":false,"tags":{"a":""},"items":[{"names":["","x"]}]}`},
		{"nested lists and maps",
			shape{Items: []item{{Inner: &item{Names: []string{"deep"}}}}, Groups: map[string][]string{"g": {"a", "b"}, "e": {}}},
			`{"required":0,"flag":false,"items":[{"inner":{"names":["deep"]}}],"groups":{"g":["a","b"],"e":[]}}`},
		{"a union is an object holding its one member",
			shape{Strategy: &types.SharingStrategyMemberNvidiaMps{Value: types.NvidiaMpsAllocation{
				Memory: aws.Int32(512), MaxComputePercent: aws.Int32(50)}}},
			`{"required":0,"flag":false,"strategy":{"nvidiaMps":{"memory":512,"maxComputePercent":50}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(&tt.in)
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, got, tt.wire)
			var back shape
			if err := Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Errorf("round trip:\n got %#v\nwant %#v", back, tt.in)
			}
		})
	}
}

func TestOmitEmptyLeavesOutEmptyMembersOnly(t *testing.T) {
	in := shape{
		Name: aws.String(""), Items: []item{{Names: []string{""}}, {}}, Tags: map[string]string{"a": ""},
		Groups: map[string][]string{}, Data: []byte{},
	}
	got, err := Encoder{OmitEmpty: true}.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	// Structures stay even when all their members are empty: only strings,
	// lists and maps are "empty".
	assertSameJSON(t, got, `{"required":0,"flag":false,"items":[{"names":[""]},{}],"tags":{"a":""}}`)
}

func TestMarshalOfNothingIsAnEmptyStructure(t *testing.T) {
	for _, v := range []any{nil, (*shape)(nil), []shape(nil)} {
		got, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		assertSameJSON(t, got, `{}`)
	}
}

func TestUnmarshalIgnoresUnknownMembersAndNulls(t *testing.T) {
	var got shape
	err := Unmarshal([]byte(`{"name":"web","notAMember":[1,2],"count":null,"strategy":null}`), &got)
	if err != nil {
		t.Fatal(err)
	}
	if want := (shape{Name: aws.String("web")}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	before := shape{Name: aws.String("kept")}
	if err := Unmarshal([]byte(" \n"), &before); err != nil || aws.ToString(before.Name) != "kept" {
		t.Errorf("empty body: %v, %#v; want no error and the value untouched", err, before)
	}
}

func TestUnmarshalErrorsNameThePathAndTheRule(t *testing.T) {
	tests := []struct {
		name, wire, want string
	}{
		{"not JSON", `{"name":`, "unexpected EOF"},
		{"string where a number goes", `{"count":"3"}`, "count: want number, got string"},
		{"fraction where an integer goes", `{"count":1.5}`, "count: want an integer"},
		{"integer too big for its field", `{"count":4294967296}`, "count: 4294967296 does not fit in a Go int32"},
		{"timestamp as a string", `{"when":"2024-01-02T03:04:05Z"}`, "when: want epoch seconds, got string"},
		{"blob that is not base64", `{"data":"!!"}`, "data: illegal base64"},
		{"deep path", `{"items":[{},{"inner":{"names":[1]}}]}`, "items[1].inner.names[0]: want string, got number"},
		{"map key in the path", `{"groups":{"g":"a"}}`, "groups.g: want array, got string"},
		{"union with two members", `{"strategy":{"nvidiaMps":{},"other":{}}}`, "strategy: a union holds exactly one member, got 2"},
		{"union member the model lacks", `{"strategy":{"amdShare":{}}}`, `strategy: types.SharingStrategy has no member "amdShare"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got shape
			err := Unmarshal([]byte(tt.wire), &got)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unmarshal(%s) = %v, want an error containing %q", tt.wire, err, tt.want)
			}
		})
	}
}

func TestUnmarshalWantsAPointer(t *testing.T) {
	if err := Unmarshal([]byte(`{}`), shape{}); err == nil {
		t.Error("Unmarshal into a non-pointer succeeded")
	}
}

func TestEncodeRefusesWhatHasNoWireForm(t *testing.T) {
	type notSDK struct {
		Size  *uint32
		Doc   any
		Sub   types.SharingStrategy
		Other []*struct{ Ch chan int }
	}
	tests := []struct {
		name string
		in   notSDK
		want string
	}{
		{"unsigned integers are not in the model", notSDK{Size: aws.Uint32(1)}, "size: no awsJson1_1 form for a Go uint32"},
		{"an interface that is no known union", notSDK{Doc: 1}, "doc: interface {} holds int, which is not a known union member"},
		{"a path through a list", notSDK{Other: []*struct{ Ch chan int }{nil, {Ch: make(chan int)}}}, "other[1].ch: no awsJson1_1 form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// A union left nil is simply unset.
	if _, err := Marshal(notSDK{Sub: (*types.SharingStrategyMemberNvidiaMps)(nil)}); err != nil {
		t.Errorf("a typed nil union member: %v", err)
	}
}

func TestUnionMembersAreNamedAfterTheirGoTypes(t *testing.T) {
	for _, m := range members {
		if m.name == "" || m.name[0] < 'a' || m.name[0] > 'z' {
			t.Errorf("%s: wire name %q", m.typ, m.name)
		}
		if !m.typ.Implements(m.union) {
			t.Errorf("%s does not implement %s", m.typ, m.union)
		}
		if _, ok := m.typ.Elem().FieldByName("Value"); !ok {
			t.Errorf("%s has no field Value", m.typ)
		}
	}
}

// assertSameJSON compares two JSON documents by value, not by layout.
func assertSameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("wire:\n got %s\nwant %s", got, want)
	}
}
