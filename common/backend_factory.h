// Builds the transport settings and the backend (FAC or FTC) a Config
// describes: the module and facctl build them the same way.
#pragma once

#include <sys/types.h>

#include <memory>

#include "backend.h"
#include "config.h"
#include "curl_transport.h"
#include "logger.h"

namespace pamfac {

TransportSettings make_transport_settings(const Config& config);

// `config` and `transport` must outlive the backend.
std::unique_ptr<Backend> make_backend(const Config& config, Transport& transport, Logger& logger, uid_t euid);

}  // namespace pamfac
