package agent

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hostMemoryMiB is the host's memory as /proc/meminfo says, in MiB; 0 when
// it cannot be read (the offline registration only shows it).
func hostMemoryMiB() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

func nowMicro() *metav1.MicroTime {
	t := metav1.NewMicroTime(time.Now())
	return &t
}
