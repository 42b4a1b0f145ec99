package data

// The CloudNativePG and Barman Cloud plugin resources as typed structs;
// a test decodes each strictly into the operators' own Go API types of the
// pinned versions (CloudNativePG 1.30, plugin-barman-cloud 0.13, the
// version its chart 0.7.0 deploys).

// PluginName is the Barman Cloud plugin's name in a Cluster.
const PluginName = "barman-cloud.cloudnative-pg.io"

// PostgresImage pins PostgreSQL: left out, the operator would fill in its
// own default at creation, and a later operator's default on the next
// update (an unplanned major upgrade). CloudNativePG 1.30's default.
const PostgresImage = "ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie"

type clusterSpec struct {
	Instances             int               `json:"instances"`
	ImageName             string            `json:"imageName"`
	EnablePDB             *bool             `json:"enablePDB,omitempty"`
	EnableSuperuserAccess bool              `json:"enableSuperuserAccess"`
	PostgreSQL            postgresConfig    `json:"postgresql"`
	Bootstrap             bootstrap         `json:"bootstrap"`
	ExternalClusters      []externalCluster `json:"externalClusters,omitempty"`
	Storage               storage           `json:"storage"`
	Resources             resources         `json:"resources"`
	Affinity              affinity          `json:"affinity"`
	Plugins               []pluginConfig    `json:"plugins"`
	Monitoring            *monitoring       `json:"monitoring,omitempty"`
}

type monitoring struct {
	CustomQueriesConfigMap []configMapKey `json:"customQueriesConfigMap"`
}

type configMapKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type postgresConfig struct {
	Parameters map[string]string `json:"parameters"`
}

type bootstrap struct {
	InitDB   *initDB   `json:"initdb,omitempty"`
	Recovery *recovery `json:"recovery,omitempty"`
}

type initDB struct {
	Database string    `json:"database"`
	Owner    string    `json:"owner"`
	Secret   secretRef `json:"secret"`
}

type recovery struct {
	Source         string          `json:"source"`
	Database       string          `json:"database"`
	Owner          string          `json:"owner"`
	Secret         secretRef       `json:"secret"`
	RecoveryTarget *recoveryTarget `json:"recoveryTarget,omitempty"`
}

type recoveryTarget struct {
	TargetTime string `json:"targetTime"`
}

type secretRef struct {
	Name string `json:"name"`
}

type externalCluster struct {
	Name   string       `json:"name"`
	Plugin pluginConfig `json:"plugin"`
}

type pluginConfig struct {
	Name          string            `json:"name"`
	IsWALArchiver *bool             `json:"isWALArchiver,omitempty"`
	Parameters    map[string]string `json:"parameters"`
}

type storage struct {
	Size         string `json:"size"`
	StorageClass string `json:"storageClass"`
}

type resources struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
}

type affinity struct {
	EnablePodAntiAffinity bool   `json:"enablePodAntiAffinity"`
	TopologyKey           string `json:"topologyKey"`
	PodAntiAffinityType   string `json:"podAntiAffinityType"`
}

type scheduledBackupSpec struct {
	Schedule             string       `json:"schedule"`
	Immediate            bool         `json:"immediate"`
	BackupOwnerReference string       `json:"backupOwnerReference"`
	Cluster              localRef     `json:"cluster"`
	Method               string       `json:"method"`
	PluginConfiguration  pluginConfig `json:"pluginConfiguration"`
}

type localRef struct {
	Name string `json:"name"`
}

type objectStoreSpec struct {
	Configuration                barmanConfig  `json:"configuration"`
	RetentionPolicy              string        `json:"retentionPolicy,omitempty"`
	InstanceSidecarConfiguration sidecarConfig `json:"instanceSidecarConfiguration"`
}

type sidecarConfig struct {
	Env       []envVar  `json:"env"`
	Resources resources `json:"resources"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type barmanConfig struct {
	DestinationPath string        `json:"destinationPath"`
	EndpointURL     string        `json:"endpointURL"`
	S3Credentials   s3Credentials `json:"s3Credentials"`
	WAL             walConfig     `json:"wal"`
	Data            dataConfig    `json:"data"`
}

type s3Credentials struct {
	AccessKeyID     secretKeyRef `json:"accessKeyId"`
	SecretAccessKey secretKeyRef `json:"secretAccessKey"`
	Region          secretKeyRef `json:"region"`
}

type secretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type walConfig struct {
	Compression string `json:"compression"`
	MaxParallel int    `json:"maxParallel"`
}

type dataConfig struct {
	Compression string `json:"compression"`
	Jobs        int    `json:"jobs"`
}
