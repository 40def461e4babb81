package ecsws

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

const (
	testKey    = "AKIDWSTEST"
	testSecret = "ws-test-secret"
	testRegion = "us-west-2"
	testURL    = "wss://ecs-t-1.us-west-2.amazonaws.com/ws?cluster=default&containerInstance=arn%3Aci"
)

var testProvider = credentials.NewStaticCredentialsProvider(testKey, testSecret, "token")

func testKeys(id string) (string, bool) { return testSecret, id == testKey }

func TestSignedFrameVerifiesAndAnyChangeIsRefused(t *testing.T) {
	frame := []byte(`{"type":"PublishMetricsRequest","message":{"timestamp":1746802078.031}}`)
	signed, err := SignFrame(context.Background(), testURL, frame, testProvider, testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Authorization: AWS4-HMAC-SHA256 Credential=" + testKey + "/", "Host: ecs-t-1.us-west-2.amazonaws.com\r\n", "X-Amz-Date: ", "X-Amz-Security-Token: token\r\n"} {
		if !bytes.Contains(signed, []byte(h)) {
			t.Errorf("signed frame lacks the header line %q:\n%s", h, signed)
		}
	}
	if !bytes.HasSuffix(signed, append([]byte("\r\n\r\n"), frame...)) {
		t.Errorf("signed frame does not end with a blank line and the frame:\n%s", signed)
	}
	got, err := VerifyFrame(signed, testURL, testKeys, testRegion)
	if err != nil || !bytes.Equal(got, frame) {
		t.Fatalf("VerifyFrame = %s, %v; want the frame", got, err)
	}
	tampered := bytes.Replace(signed, []byte("078.031"), []byte("078.032"), 1)
	otherURL := strings.Replace(testURL, "arn%3Aci", "arn%3Aother", 1)
	otherHost := strings.Replace(testURL, "ecs-t-1", "ecs-t-2", 1)
	for name, tc := range map[string]struct {
		data []byte
		url  string
		keys Keys
	}{
		"changed body":      {tampered, testURL, testKeys},
		"other session URL": {signed, otherURL, testKeys},
		"other host":        {signed, otherHost, testKeys},
		"unknown key":       {signed, testURL, func(string) (string, bool) { return "", false }},
		"wrong secret":      {signed, testURL, func(string) (string, bool) { return "other", true }},
		"unsigned":          {frame, testURL, testKeys},
		"no Authorization":  {bytes.Replace(signed, []byte("Authorization:"), []byte("X-Nothing:"), 1), testURL, testKeys},
	} {
		if _, err := VerifyFrame(tc.data, tc.url, tc.keys, testRegion); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: VerifyFrame error %v; want ErrBadSignature", name, err)
		}
	}
}

func TestVerifyChecksTheUpgradeAsSigned(t *testing.T) {
	h, err := SignedHeaders(context.Background(), testURL, testProvider, testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", testURL, nil)
	for k, v := range h {
		r.Header[k] = v
	}
	if err := Verify(r, testKeys, testRegion); err != nil {
		t.Errorf("Verify of the signed upgrade: %v", err)
	}
	r.URL.RawQuery += "&extra=1"
	if err := Verify(r, testKeys, testRegion); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify with a changed query: %v; want ErrBadSignature", err)
	}
}

func TestBackoffGrowsToItsCapWithJitter(t *testing.T) {
	for _, mult := range []float64{1.5, 2} {
		b := &Backoff{Min: 250 * time.Millisecond, Max: 2 * time.Minute, Multiplier: mult, Jitter: 0.2}
		base := 250 * time.Millisecond
		for i := range 20 {
			d := b.Wait()
			if d < base || float64(d) > float64(base)*1.2+1 {
				t.Fatalf("×%v: wait %d = %v, want %v plus at most 20 %%", mult, i, d, base)
			}
			base = min(time.Duration(float64(base)*mult), 2*time.Minute)
		}
		if base != 2*time.Minute {
			t.Errorf("×%v: after 20 failures the base is %v, want the 2 min cap", mult, base)
		}
		b.Reset()
		if d := b.Wait(); d > 300*time.Millisecond {
			t.Errorf("×%v: after reset the wait is %v, want 250 ms again", mult, d)
		}
	}
}
