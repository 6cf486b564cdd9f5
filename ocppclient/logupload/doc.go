// Package logupload collects a charge point's logs for a time window into
// an archive and uploads it to the URL a CSMS names (OCPP 1.6
// GetDiagnostics, the whitepaper's GetLog with DiagnosticsLog or
// SecurityLog, OCPP 2.0.1 functional block N, GetLog).
//
// The package is version-neutral: the adapters translate their requests
// to Request, choose the Sources (the agent's log files for a diagnostics
// log, the security log for a security log), and map the Status values
// reported through Options.OnStatus to DiagnosticsStatusNotification
// (Status.Diagnostics) or LogStatusNotification (Status.Log).
//
// # Collecting
//
// A Source writes its lines of a window [From, To] (a zero side is open).
// Files reads text log files, the agent's slog output (JSON or text
// handler) or any format whose lines start with an RFC 3339 time: a line
// is in the window when its time is; a line without a time (a stack
// trace, a continued message) goes with the line before it. The security
// log of package secevents is a Source as it is. Start writes every
// source's lines into a gzip'd tar archive, one entry per source named by
// Source.Name, under Options.Dir, once per request; the archive is removed
// when the upload ends.
//
// # Uploading
//
// The archive goes to the request's http or https location: with PUT (the
// default) as the request body, or with POST as a multipart/form-data
// file field (Options.Method, Options.FormField). A location whose path
// ends in "/" names a directory: the archive's file name is appended. The
// statuses:
//
//	Uploading              each attempt
//	Uploaded               a 2xx answer
//	PermissionDenied       401 or 403: the end, not retried
//	NotSupportedOperation  405 or 501: the end, not retried
//	UploadFailed           no attempt succeeded, Retries+1 made
//
// A failed attempt (a network error, another status) is retried after
// RetryInterval, through Options.Clock. A request started while another
// runs cancels that one (AcceptedCanceled).
package logupload
