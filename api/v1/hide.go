package v1

// HiddenValue stands in, wherever the agent shows a task to a person or a
// program (the agent API, the CLI, a support bundle), for values that may
// be secrets: environment values, Docker label values and log driver
// options. The store keeps the real values, which the agent needs to
// create the containers again; the ECS agent's own endpoints never show
// them either.
const HiddenValue = "(hidden)"

// HideValues replaces the task's environment values, Docker label values
// and log driver options with HiddenValue, keeping their names. Call it on
// a copy: it changes the task.
func (t *Task) HideValues() {
	for i := range t.Spec.Containers {
		c := &t.Spec.Containers[i]
		for j := range c.Environment {
			if c.Environment[j].Value != "" {
				c.Environment[j].Value = HiddenValue
			}
		}
		hideMap(c.DockerLabels)
		if c.LogConfiguration != nil {
			hideMap(c.LogConfiguration.Options)
		}
	}
}

func hideMap(m map[string]string) {
	for k, v := range m {
		if v != "" {
			m[k] = HiddenValue
		}
	}
}
