#include "registry/registry_factory.h"

#include <fmt/format.h>

#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "registry/rest_registry_store.h"
#include "registry/sqlite_registry_store.h"
#include "tracking/store_factory.h"

namespace mltrack::registry {

std::shared_ptr<RegistryStore> OpenRegistryStore(std::string_view tracking_uri) {
  TrackingUri uri = ParseTrackingUri(tracking_uri);
  switch (uri.scheme) {
    case TrackingUri::Scheme::kSqlite: {
      // Through the tracking store: it checks the folder and, when it creates the file, gives the
      // Default experiment the same artifact root a tracking client would.
      auto tracking = tracking::OpenSqliteTrackingStore(tracking_uri);
      return std::make_shared<SqliteRegistryStore>(tracking->db_path());
    }
    case TrackingUri::Scheme::kHttp:
      return std::make_shared<RestRegistryStore>(HttpBaseUrl(uri));
  }
  throw Error(ErrorCode::kInternalError,
              fmt::format("tracking URI '{}': unhandled scheme", tracking_uri));
}

}  // namespace mltrack::registry
