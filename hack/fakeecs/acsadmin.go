package fakeecs

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/websocket"
)

// serveACSAdmin serves the ACS part of the admin API:
//
//	GET    /_fake/acs              open sessions, every frame recorded, the fault in force
//	POST   /_fake/acs/faults       set the fault: {"dropAcks":true} | {"silent":true} |
//	                               {"refuse":"InactiveInstanceException"}; DELETE clears it
//	POST   /_fake/acs/manifest     ?instance=<arn>: send a task manifest
//	POST   /_fake/acs/credentials  {"taskArn":…,"roleType":"TaskApplication"}: renew and send
//	POST   /_fake/acs/close        {"instance":…,"code":1000,"text":"…"}: close the session
func (f *Fake) serveACSAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_fake/acs":
		if !allow(w, r, http.MethodGet) {
			return
		}
		f.mu.Lock()
		fault := f.acs.fault
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"sessions": f.ACSSessions(), "frames": f.ACSFrames(), "fault": fault})
	case "/_fake/acs/faults":
		switch r.Method {
		case http.MethodPost:
			var ft ACSFault
			if err := json.NewDecoder(r.Body).Decode(&ft); err != nil {
				http.Error(w, "ACS fault: "+err.Error(), http.StatusBadRequest)
				return
			}
			f.SetACSFault(ft)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			f.SetACSFault(ACSFault{})
			w.WriteHeader(http.StatusNoContent)
		default:
			allow(w, r, http.MethodPost, http.MethodDelete)
		}
	case "/_fake/acs/manifest":
		if !allow(w, r, http.MethodPost) {
			return
		}
		id := f.SendManifest(r.URL.Query().Get("instance"))
		if id == "" {
			http.Error(w, "no ACS session open for that instance", http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"messageId": id})
	case "/_fake/acs/credentials":
		var req struct {
			TaskArn  string `json:"taskArn"`
			RoleType string `json:"roleType"`
		}
		if !allow(w, r, http.MethodPost) || !decodeBody(w, r, &req) {
			return
		}
		c, ok := f.RefreshCredentials(req.TaskArn, req.RoleType)
		if !ok {
			http.Error(w, "no such task or role", http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"credentialsId": c.CredentialsID})
	case "/_fake/acs/close":
		req := struct {
			Instance string `json:"instance"`
			Code     int    `json:"code"`
			Text     string `json:"text"`
		}{Code: websocket.CloseNormalClosure}
		if !allow(w, r, http.MethodPost) || !decodeBody(w, r, &req) {
			return
		}
		if !f.CloseACS(req.Instance, req.Code, req.Text) {
			http.Error(w, "no ACS session open for that instance", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func decodeBody(w http.ResponseWriter, r *http.Request, into any) bool {
	if err := json.NewDecoder(r.Body).Decode(into); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
