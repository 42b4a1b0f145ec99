package security

import "gitlab.com/camps-ch/infra/infra/convention"

// The typed values of the security releases' charts: only the keys the
// program sets, named as each chart's values.yaml names them.

// podSecurityContext is a Pod's securityContext.
type podSecurityContext struct {
	RunAsNonRoot   bool           `json:"runAsNonRoot"`
	RunAsUser      int            `json:"runAsUser"`
	RunAsGroup     int            `json:"runAsGroup"`
	FSGroup        int            `json:"fsGroup"`
	SeccompProfile seccompProfile `json:"seccompProfile"`
}

type seccompProfile struct {
	Type string `json:"type"`
}

// containerSecurityContext is a container's securityContext.
type containerSecurityContext struct {
	AllowPrivilegeEscalation bool         `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool         `json:"readOnlyRootFilesystem,omitempty"`
	Capabilities             capabilities `json:"capabilities"`
}

type capabilities struct {
	Drop []string `json:"drop"`
}

// dropAll drops every capability.
var dropAll = capabilities{Drop: []string{"ALL"}}

// enabled is a chart's {enabled: …} switch.
type enabled struct {
	Enabled bool `json:"enabled"`
}

// openBaoValues are the openbao chart's values.
type openBaoValues struct {
	Global   openBaoGlobal `json:"global"`
	Injector enabled       `json:"injector"`
	Server   openBaoServer `json:"server"`
	UI       enabled       `json:"ui"`
}

type openBaoGlobal struct {
	TLSDisable bool `json:"tlsDisable"`
}

type openBaoServer struct {
	Resources                 convention.Resources        `json:"resources"`
	HA                        openBaoHA                   `json:"ha"`
	PodManagementPolicy       string                      `json:"podManagementPolicy"`
	DataStorage               openBaoStorage              `json:"dataStorage"`
	AuditStorage              openBaoStorage              `json:"auditStorage"`
	TopologySpreadConstraints []convention.TopologySpread `json:"topologySpreadConstraints"`
	Volumes                   []volume                    `json:"volumes"`
	VolumeMounts              []volumeMount               `json:"volumeMounts"`
	ExtraEnvironmentVars      map[string]string           `json:"extraEnvironmentVars"`
	StatefulSet               openBaoStatefulSet          `json:"statefulSet"`
}

type openBaoHA struct {
	Enabled  bool        `json:"enabled"`
	Replicas int         `json:"replicas"`
	Raft     openBaoRaft `json:"raft"`
}

type openBaoRaft struct {
	Enabled   bool   `json:"enabled"`
	SetNodeID bool   `json:"setNodeId"`
	Config    string `json:"config"`
}

type openBaoStorage struct {
	Enabled      bool   `json:"enabled"`
	Size         string `json:"size"`
	StorageClass string `json:"storageClass"`
}

type openBaoStatefulSet struct {
	SecurityContext struct {
		Pod       podSecurityContext       `json:"pod"`
		Container containerSecurityContext `json:"container"`
	} `json:"securityContext"`
}

// volume is a Pod volume from a Secret or a ConfigMap.
type volume struct {
	Name      string           `json:"name"`
	Secret    *secretVolume    `json:"secret,omitempty"`
	ConfigMap *configMapVolume `json:"configMap,omitempty"`
}

type secretVolume struct {
	SecretName string `json:"secretName"`
	// DefaultMode is the files' mode; 0 leaves the default (0644).
	DefaultMode int `json:"defaultMode,omitempty"`
}

type configMapVolume struct {
	Name string `json:"name"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

// esoValues are the external-secrets chart's values.
type esoValues struct {
	InstallCRDs    bool                 `json:"installCRDs"`
	CRDs           esoCRDs              `json:"crds"`
	ReplicaCount   int                  `json:"replicaCount"`
	Resources      convention.Resources `json:"resources"`
	ServiceMonitor enabled              `json:"serviceMonitor"`
	Webhook        esoComponent         `json:"webhook"`
	CertController esoComponent         `json:"certController"`
}

type esoCRDs struct {
	Annotations map[string]string `json:"annotations"`
}

type esoComponent struct {
	ReplicaCount int                  `json:"replicaCount,omitempty"`
	Resources    convention.Resources `json:"resources"`
}

// vectorValues are the vector chart's values. CustomConfig is Vector's own
// configuration (vectorConfig), passed through as the chart's
// customConfig.
type vectorValues struct {
	Role               string                   `json:"role"`
	Replicas           int                      `json:"replicas"`
	PodSecurityContext podSecurityContext       `json:"podSecurityContext"`
	SecurityContext    containerSecurityContext `json:"securityContext"`
	Resources          convention.Resources     `json:"resources"`
	Persistence        vectorPersistence        `json:"persistence"`
	Env                []envVar                 `json:"env"`
	ReadinessProbe     httpProbe                `json:"readinessProbe"`
	LivenessProbe      httpProbe                `json:"livenessProbe"`
	PodMonitor         enabled                  `json:"podMonitor"`
	CustomConfig       map[string]any           `json:"customConfig"`
}

type vectorPersistence struct {
	Enabled          bool   `json:"enabled"`
	StorageClassName string `json:"storageClassName"`
	Size             string `json:"size"`
}

// envVar is a container's environment variable read from a Secret.
type envVar struct {
	Name      string `json:"name"`
	ValueFrom struct {
		SecretKeyRef struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"secretKeyRef"`
	} `json:"valueFrom"`
}

// fromSecret is the variable name, read from the Secret's key.
func fromSecret(name, secret, key string) envVar {
	v := envVar{Name: name}
	v.ValueFrom.SecretKeyRef.Name, v.ValueFrom.SecretKeyRef.Key = secret, key
	return v
}

type httpProbe struct {
	HTTPGet struct {
		Path string `json:"path"`
		Port string `json:"port"`
	} `json:"httpGet"`
}
