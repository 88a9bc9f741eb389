// What /health, /metrics and the status line of `up` say about each stage: the stages'
// registrations with the Monitor (up/monitor.h): each gives its health, a progress counter
// and its metrics registry, gathered on /metrics as they are, then the Firehose port's
// connection counters.
#include <httplib.h>

#include "up/pipeline_internal.h"

namespace orderlake::up::internal {

void Pipeline::RegisterStages() {
  const auto ended = [this](bool running) -> std::string {
    return running ? "running" : stopping_ ? "stopping" : "stopped";
  };
  Stage gen{"generate",
            [this] {
              StageHealth h;
              h.enabled = o_.logs.empty();
              h.up = !h.enabled || gen_running_ || stopping_;
              h.state = !h.enabled ? "off (--logs)" : gen_running_ ? "running"
                                                  : stopping_     ? "stopping"
                                                                  : "stopped: " + gen_error_;
              return h;
            },
            [this] { return static_cast<double>(generated_.load()); }};
  gen.registry = &generate_metrics_;
  monitor_.AddStage(std::move(gen));

  Stage agent{"agent",
              [this, ended] {
                StageHealth h;
                const bool running = agent_ && !agent_->Done();
                h.up = running || stopping_;
                h.state = agent_ ? ended(running) : "not started: " + result_.message();
                h.lag = agent_ ? agent_->metrics().Value("orderlake_agent_lag_bytes") : 0;
                h.lag_unit = "bytes";
                return h;
              },
              [this] { return agent_ ? agent_->metrics().Value("orderlake_agent_records_sent_total") : 0.0; }};
  if (agent_) agent.registry = &agent_->metrics();
  monitor_.AddStage(std::move(agent));

  monitor_.AddStage({"firehose",
                     [this] {
                       StageHealth h;
                       // Asked over loopback, as the agent reaches it.
                       httplib::Client client("127.0.0.1", fh_port_);
                       client.set_connection_timeout(1, 0);
                       client.set_read_timeout(2, 0);
                       auto r = client.Get("/health");
                       // With --tls-cert this plain request is answered 400 ("this port speaks
                       // HTTPS"): the listener is alive all the same.
                       const bool answers = r && (r->status == 200 || (!o_.tls.cert_file.empty() && r->status == 400));
                       h.up = answers || stopping_;
                       h.state = answers ? "running" : stopping_ ? "stopping" : "not answering on its port";
                       h.lag = service_->metrics().Value("orderlake_firehose_buffered_records");
                       h.lag_unit = "records";
                       return h;
                     },
                     [this] { return service_->metrics().Value("orderlake_firehose_records_in_total"); },
                     &service_->metrics()});

  monitor_.AddStage({"etl",
                     [this, ended] {
                       StageHealth h;
                       std::string why;
                       const bool failing = monitor_.etl_failing(&why);
                       h.up = (etl_running_ && !failing) || stopping_;
                       h.state = !etl_running_ ? ended(false) : failing ? "failing: " + why : "running";
                       h.lag = static_cast<double>(monitor_.objects_waiting());
                       h.lag_unit = "objects";
                       return h;
                     },
                     [this] { return static_cast<double>(monitor_.etl_rows()); }});

  monitor_.AddStage({"dashboard",
                     [this, ended] {
                       StageHealth h;
                       h.up = dash_running_ || stopping_;
                       h.state = ended(dash_running_);
                       return h;
                     },
                     // No registry here: the dashboard puts its own counters first on /metrics.
                     [this] { return dash_->metrics().Value("orderlake_dashboard_table_version"); }});

  // The compactor is not a stage of /health (its failures are retried and logged); its
  // counters are on /metrics after the etl's.
  if (o_.compact_every_s > 0) monitor_.AddRegistry(&compact_metrics_.registry());
  // The Firehose port's connection counters (orderlake_http_*: open, refused by reason).
  monitor_.AddRegistry(&fh_server_->http_metrics());
  // The AWS endpoint's connection counters (orderlake_aws_http_*).
  if (aws_) monitor_.AddRegistry(&aws_->metrics());
}

}  // namespace orderlake::up::internal
