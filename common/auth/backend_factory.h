// Builds the transport settings and the backend (FAC or FTC) a Config
// describes: the module and facctl build them the same way.
#pragma once

#include <sys/types.h>

#include <memory>

#include "config/config.h"
#include "core/backend.h"
#include "core/logger.h"
#include "http/curl_transport.h"

namespace pamfac {

TransportSettings make_transport_settings(const Config& config);

// `config` and `transport` must outlive the backend.
// `caller_controls_timing`: process_timing_is_callers() (core/outage.h) in
// the module; a timeout is then no evidence of an outage.
std::unique_ptr<Backend> make_backend(const Config& config, Transport& transport, Logger& logger, uid_t euid,
                                      bool caller_controls_timing);

}  // namespace pamfac
