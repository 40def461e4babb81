package chaos

import (
	"os"
	"testing"

	"github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, true))
}
