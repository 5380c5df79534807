// Picks the RegistryStore implementation for a tracking URI, as tracking::OpenTrackingStore does
// for runs: the registry lives beside the runs it versions.
#pragma once

#include <memory>
#include <string_view>

#include "registry/registry_store.h"

namespace mltrack::registry {

// sqlite:///... opens (creating and migrating) the same database file the tracking store uses;
// http(s)://host:port talks to the server's model-registry REST API. Errors as
// tracking::OpenTrackingStore: kInvalidParameterValue for a URI that does not parse, kIoError
// when the database's folder does not exist.
std::shared_ptr<RegistryStore> OpenRegistryStore(std::string_view tracking_uri);

}  // namespace mltrack::registry
